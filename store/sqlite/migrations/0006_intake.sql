-- The request page, approvals and the API (issue 10). Keep in step with
-- store/postgres/migrations/0006_intake.sql.

-- What the request page or the API adds to a request (foyer.Details as a
-- JSON object), and where its approval stands: the 1-based stage it waits
-- at (0: none), when that stage times out, whether it went to the stage's
-- alternates.
ALTER TABLE requests ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
ALTER TABLE requests ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN stage_due TEXT;
ALTER TABLE requests ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;

-- Who recorded a run's plan: the four-eyes rule refuses them as its
-- approver.
ALTER TABLE runs ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '';

-- The request page's links, by the SHA-256 of the token: the token itself
-- is never stored.
CREATE TABLE tokens (
	hash        TEXT PRIMARY KEY,
	request_id  TEXT NOT NULL REFERENCES requests (id),
	created_at  TEXT NOT NULL,
	verify_by   TEXT NOT NULL,
	verified_at TEXT,          -- NULL until the address is proved
	expires_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_request ON tokens (request_id);

-- Approvers' answers, one per approver and stage of a request.
CREATE TABLE decisions (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	request_id    TEXT NOT NULL REFERENCES requests (id),
	stage         INTEGER NOT NULL,
	approver      TEXT NOT NULL,
	approver_name TEXT NOT NULL DEFAULT '',
	approve       INTEGER NOT NULL,
	justification TEXT NOT NULL DEFAULT '',
	at            TEXT NOT NULL,
	UNIQUE (request_id, stage, approver)
);

-- The API's keys, by the SHA-256 of the key.
CREATE TABLE api_keys (
	name       TEXT PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,
	prefix     TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	revoked_at TEXT            -- NULL while the key works
) WITHOUT ROWID;

-- Which request an API call with an Idempotency-Key made, per client.
CREATE TABLE idempotency_keys (
	client     TEXT NOT NULL,
	key        TEXT NOT NULL,
	body_hash  TEXT NOT NULL,
	request_id TEXT NOT NULL REFERENCES requests (id),
	created_at TEXT NOT NULL,
	PRIMARY KEY (client, key)
) WITHOUT ROWID;

-- The approver UI lists guests a page at a time in address order (the
-- address lowercased, then the object id for the rare address two objects
-- share) and counts them: both walk this index, not the table. search is
-- the address, display name and UPN lowercased (by Unicode, in Go) and
-- joined by a line feed, so that "contains" is one LIKE the same on both
-- databases; PutGuest writes it, and rows older than this migration get
-- SQLite's lower() (ASCII) until they are written again.
ALTER TABLE guests ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE guests SET search = lower(email || char(10) || display_name || char(10) || upn);
CREATE INDEX guests_list ON guests (email_key, user_id);
