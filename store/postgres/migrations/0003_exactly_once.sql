-- The job that does a row's work. A resumed run enqueues only rows whose job
-- is gone or ended without a result, so the ledger holds one live job per
-- unfinished row however often the run was interrupted; a job whose row names
-- another job does nothing. NULL: not enqueued (or to be enqueued again).
ALTER TABLE run_rows ADD COLUMN job_id BIGINT;

-- Tenants whose invitations Entra blocked for suspicious activity. Only
-- Microsoft support lifts such a block, so foyer invites no one into the
-- tenant until an operator clears the row (foyer tenants unblock).
CREATE TABLE tenant_blocks (
	tenant TEXT PRIMARY KEY,
	since  timestamptz NOT NULL,
	run_id TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT ''
);

-- A redeem URL is a credential of sorts (it lets its holder redeem the
-- invitation) and is needed only until foyer's own invitation email is sent.
UPDATE requests SET redeem_url = '' WHERE redeem_url <> '' AND id IN
	(SELECT request_id FROM steps WHERE name LIKE 'mail @%' AND state = 'done');
