-- A run's rows are recorded in batches, each in its own short transaction,
-- so that recording a million rows never holds the ledger's write lock for
-- long. sealed_at is set once every row is in. A run that is not sealed is a
-- plan whose recording was cut off: nothing of it ran, OpenRun's callers do
-- not resume it, and the next apply of the same input deletes it. Runs
-- recorded before this migration were recorded whole, in one transaction.
ALTER TABLE runs ADD COLUMN sealed_at timestamptz;
UPDATE runs SET sealed_at = started_at;

-- The redemption state of an existing guest when the plan was made
-- (PendingAcceptance or Accepted): the worker moves the request of a guest
-- who had accepted to active rather than invited.
ALTER TABLE run_rows ADD COLUMN guest_state TEXT NOT NULL DEFAULT '';

-- PendingRunRows: the rows of a run still waiting for a result, counted
-- several times a second while a run is applied. Only those rows are in the
-- index, so the count costs the same for ten rows as for a million.
CREATE INDEX run_rows_pending ON run_rows (run_id) WHERE result = '';
