-- A sweep job reads its own guest's entries of its run (run_id and
-- target) right before it writes; without this index the database walks
-- every entry of the run to find them, so a sweep's cost grew with the
-- square of its rows. Keep in step with store/sqlite/migrations/0011_audit_target.sql.
CREATE INDEX audit_run_target ON audit (run_id, target, seq);
