-- A stand-in for a migration of another branch (local testing only).
SELECT 1;
