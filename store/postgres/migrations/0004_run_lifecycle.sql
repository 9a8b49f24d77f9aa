-- A run's plan is recorded, then approved (or discarded), then applied.
-- approved_at and approved_by say who approved it and when; discarded_at
-- that it will never be applied; saved marks a plan recorded to be applied
-- later (foyer plan --save). Runs recorded before this migration were
-- applied as soon as they were recorded.
ALTER TABLE runs ADD COLUMN approved_at timestamptz;
ALTER TABLE runs ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN discarded_at timestamptz;
ALTER TABLE runs ADD COLUMN saved BOOLEAN NOT NULL DEFAULT false;
UPDATE runs SET approved_at = sealed_at WHERE sealed_at IS NOT NULL;

-- The delivery of a finished run's report through each channel (slack,
-- teams, webhook): owed until it is sent. The report itself is a job
-- inserted in the transaction that finishes the run.
CREATE TABLE report_deliveries (
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	channel    TEXT NOT NULL,
	state      TEXT NOT NULL,          -- owed or sent
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	sent_at    timestamptz,
	PRIMARY KEY (run_id, channel)
);
