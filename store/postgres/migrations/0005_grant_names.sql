-- Rows name grants by key (group:<id>, app:<sp>/<role>, ...): stable ids
-- that travel from the plan to the job to the ledger. grant_names keeps, per
-- run, the name people read for each key (a JSON object), as it was when
-- the run was recorded, so that a run shows its grants by name long after
-- a group was renamed or the profile changed. Rows recorded before this
-- migration hold names already.
ALTER TABLE runs ADD COLUMN grant_names TEXT NOT NULL DEFAULT '{}';
