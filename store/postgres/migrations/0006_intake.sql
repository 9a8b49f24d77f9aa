-- The request page, approvals and the API (issue 10). Keep in step with
-- store/sqlite/migrations/0006_intake.sql.

-- What the request page or the API adds to a request (foyer.Details as a
-- JSON object), and where its approval stands: the 1-based stage it waits
-- at (0: none), when that stage times out, whether it went to the stage's
-- alternates.
ALTER TABLE requests ADD COLUMN details text NOT NULL DEFAULT '{}';
ALTER TABLE requests ADD COLUMN stage integer NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN stage_due timestamptz;
ALTER TABLE requests ADD COLUMN escalated boolean NOT NULL DEFAULT false;

-- Who recorded a run's plan: the four-eyes rule refuses them as its
-- approver.
ALTER TABLE runs ADD COLUMN recorded_by text NOT NULL DEFAULT '';

-- The request page's links, by the SHA-256 of the token: the token itself
-- is never stored.
CREATE TABLE tokens (
	hash        text PRIMARY KEY,
	request_id  text NOT NULL REFERENCES requests (id),
	created_at  timestamptz NOT NULL,
	verify_by   timestamptz NOT NULL,
	verified_at timestamptz,   -- NULL until the address is proved
	expires_at  timestamptz NOT NULL
);
CREATE INDEX tokens_request ON tokens (request_id);

-- Approvers' answers, one per approver and stage of a request.
CREATE TABLE decisions (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request_id    text NOT NULL REFERENCES requests (id),
	stage         integer NOT NULL,
	approver      text NOT NULL,
	approver_name text NOT NULL DEFAULT '',
	approve       boolean NOT NULL,
	justification text NOT NULL DEFAULT '',
	at            timestamptz NOT NULL,
	UNIQUE (request_id, stage, approver)
);

-- The API's keys, by the SHA-256 of the key.
CREATE TABLE api_keys (
	name       text PRIMARY KEY,
	hash       text NOT NULL UNIQUE,
	prefix     text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	revoked_at timestamptz     -- NULL while the key works
);

-- Which request an API call with an Idempotency-Key made, per client.
CREATE TABLE idempotency_keys (
	client     text NOT NULL,
	key        text NOT NULL,
	body_hash  text NOT NULL,
	request_id text NOT NULL REFERENCES requests (id),
	created_at timestamptz NOT NULL,
	PRIMARY KEY (client, key)
);

-- The approver UI lists guests a page at a time in address order (the
-- address lowercased, then the object id for the rare address two objects
-- share) and counts them: both walk this index, not the table. The order
-- is by bytes (COLLATE "C"), as on SQLite, whatever the database's
-- collation; the ledger's statements compare with the same collation so
-- that the index serves them. search is the address, display name and UPN
-- lowercased (in Go) and joined by a line feed, so that "contains" is one
-- LIKE the same on both databases; PutGuest writes it.
ALTER TABLE guests ADD COLUMN search text NOT NULL DEFAULT '';
UPDATE guests SET search = lower(email || chr(10) || display_name || chr(10) || upn);
CREATE INDEX guests_list ON guests (email_key COLLATE "C", user_id COLLATE "C");
