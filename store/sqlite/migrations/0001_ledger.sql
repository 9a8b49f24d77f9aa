-- The ledger, SQLite dialect. Keep in step with
-- store/postgres/migrations/0001_ledger.sql (same tables, same meaning).
--
-- Times are TEXT in UTC, fixed width, to the microsecond
-- ("2006-01-02T15:04:05.000000Z"), so that they sort as strings and read back
-- exactly as PostgreSQL's timestamptz does. Optional text is '' rather than
-- NULL; optional times are NULL.

-- Runs: one execution of a bulk change. seq orders runs started in the same
-- instant.
CREATE TABLE runs (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT NOT NULL UNIQUE,
	kind        TEXT NOT NULL,
	profile     TEXT NOT NULL DEFAULT '',
	source      TEXT NOT NULL DEFAULT '',
	digest      TEXT NOT NULL DEFAULT '',
	started_at  TEXT NOT NULL,
	finished_at TEXT,          -- NULL while the run is open
	summary     TEXT           -- JSON of foyer.Summary, written by FinishRun
);
-- OpenRun: the newest unfinished run of a kind, profile and digest.
CREATE INDEX runs_open ON runs (kind, profile, digest, seq) WHERE finished_at IS NULL;

-- The rows of a run: the input, the plan's verdict and the result of apply.
CREATE TABLE run_rows (
	run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	line         INTEGER NOT NULL,
	email        TEXT NOT NULL DEFAULT '',
	raw          TEXT NOT NULL DEFAULT '',
	display_name TEXT NOT NULL DEFAULT '',
	given_name   TEXT NOT NULL DEFAULT '',
	surname      TEXT NOT NULL DEFAULT '',
	company      TEXT NOT NULL DEFAULT '',
	profile      TEXT NOT NULL DEFAULT '',
	redirect_url TEXT NOT NULL DEFAULT '',
	message      TEXT NOT NULL DEFAULT '',
	send_email   TEXT NOT NULL DEFAULT '',
	action       TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT '',
	user_id      TEXT NOT NULL DEFAULT '',
	grants       TEXT NOT NULL DEFAULT '[]', -- JSON array of Grant.String
	result       TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, line)
) WITHOUT ROWID;

-- Requests: one per profile and person (the address compared lowercased).
CREATE TABLE requests (
	seq               INTEGER PRIMARY KEY AUTOINCREMENT,
	id                TEXT NOT NULL UNIQUE,
	run_id            TEXT NOT NULL DEFAULT '',
	origin            TEXT NOT NULL DEFAULT '',
	line              INTEGER NOT NULL DEFAULT 0,
	email             TEXT NOT NULL,
	email_key         TEXT NOT NULL, -- foyer.Address.Key
	display_name      TEXT NOT NULL DEFAULT '',
	profile           TEXT NOT NULL,
	state             TEXT NOT NULL,
	user_id           TEXT NOT NULL DEFAULT '',
	redeem_url        TEXT NOT NULL DEFAULT '',
	failure_code      TEXT,          -- NULL when the request has no failure
	failure_message   TEXT NOT NULL DEFAULT '',
	failure_retryable INTEGER NOT NULL DEFAULT 0,
	failure_step      TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	UNIQUE (profile, email_key)
);
CREATE INDEX requests_run ON requests (run_id, seq);
CREATE INDEX requests_state ON requests (state, seq);
CREATE INDEX requests_email ON requests (email_key, seq);

-- Every transition of a request, the creation included (from_state '').
CREATE TABLE request_history (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	request_id TEXT NOT NULL REFERENCES requests (id),
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	at         TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX request_history_request ON request_history (request_id, seq);

-- Steps: the intent to do one unit of a request's work, then its outcome.
CREATE TABLE steps (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	request_id  TEXT NOT NULL REFERENCES requests (id),
	name        TEXT NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL,
	started_at  TEXT NOT NULL,
	finished_at TEXT,          -- NULL while started
	result      TEXT NOT NULL DEFAULT '',
	graph_id    TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	UNIQUE (request_id, name)
);

-- Guests as last seen in the directory.
CREATE TABLE guests (
	user_id      TEXT PRIMARY KEY,
	email        TEXT NOT NULL,
	email_key    TEXT NOT NULL,
	upn          TEXT NOT NULL DEFAULT '',
	display_name TEXT NOT NULL DEFAULT '',
	redemption   TEXT NOT NULL DEFAULT '',
	enabled      INTEGER NOT NULL DEFAULT 0,
	invited_at   TEXT,
	last_sign_in TEXT,
	profiles     TEXT NOT NULL DEFAULT '[]', -- JSON array of profile names
	updated_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX guests_email ON guests (email_key, updated_at);

-- What foyer granted to whom through which profile.
CREATE TABLE held_grants (
	user_id    TEXT NOT NULL,
	profile    TEXT NOT NULL,
	grant_key  TEXT NOT NULL,
	grant_text TEXT NOT NULL DEFAULT '',
	granted_at TEXT NOT NULL,
	PRIMARY KEY (user_id, profile, grant_key)
) WITHOUT ROWID;

-- The append-only audit log. AUTOINCREMENT so that a seq is never reused.
CREATE TABLE audit (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	at         TEXT NOT NULL,
	kind       TEXT NOT NULL,
	actor      TEXT NOT NULL DEFAULT '',
	run_id     TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	op         TEXT NOT NULL,
	target     TEXT NOT NULL DEFAULT '',
	graph_id   TEXT NOT NULL DEFAULT '',
	error      TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_run ON audit (run_id, seq);
CREATE INDEX audit_request ON audit (request_id, seq);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused');
END;

-- Named, expiring, fenced locks. owner is '' once released; generation
-- grows each time the lease changes hands and is never reset.
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	generation INTEGER NOT NULL,
	until      TEXT NOT NULL
) WITHOUT ROWID;
