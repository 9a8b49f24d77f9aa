-- The ledger, PostgreSQL dialect. Keep in step with
-- store/sqlite/migrations/0001_ledger.sql (same tables, same meaning).
--
-- Tables are created in the first schema of search_path (Options.Schema).
-- Optional text is '' rather than NULL; optional times are NULL.

-- Runs: one execution of a bulk change. seq orders runs started in the same
-- instant.
CREATE TABLE runs (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id          text NOT NULL UNIQUE,
	kind        text NOT NULL,
	profile     text NOT NULL DEFAULT '',
	source      text NOT NULL DEFAULT '',
	digest      text NOT NULL DEFAULT '',
	started_at  timestamptz NOT NULL,
	finished_at timestamptz,   -- NULL while the run is open
	summary     jsonb          -- foyer.Summary, written by FinishRun
);
-- OpenRun: the newest unfinished run of a kind, profile and digest.
CREATE INDEX runs_open ON runs (kind, profile, digest, seq) WHERE finished_at IS NULL;

-- The rows of a run: the input, the plan's verdict and the result of apply.
CREATE TABLE run_rows (
	run_id       text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	line         integer NOT NULL,
	email        text NOT NULL DEFAULT '',
	raw          text NOT NULL DEFAULT '',
	display_name text NOT NULL DEFAULT '',
	given_name   text NOT NULL DEFAULT '',
	surname      text NOT NULL DEFAULT '',
	company      text NOT NULL DEFAULT '',
	profile      text NOT NULL DEFAULT '',
	redirect_url text NOT NULL DEFAULT '',
	message      text NOT NULL DEFAULT '',
	send_email   text NOT NULL DEFAULT '',
	action       text NOT NULL,
	reason       text NOT NULL DEFAULT '',
	user_id      text NOT NULL DEFAULT '',
	grants       text[] NOT NULL DEFAULT '{}', -- Grant.String of each grant
	result       text NOT NULL DEFAULT '',
	error        text NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, line)
);

-- Requests: one per profile and person (the address compared lowercased).
CREATE TABLE requests (
	seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                text NOT NULL UNIQUE,
	run_id            text NOT NULL DEFAULT '',
	origin            text NOT NULL DEFAULT '',
	line              integer NOT NULL DEFAULT 0,
	email             text NOT NULL,
	email_key         text NOT NULL, -- foyer.Address.Key
	display_name      text NOT NULL DEFAULT '',
	profile           text NOT NULL,
	state             text NOT NULL,
	user_id           text NOT NULL DEFAULT '',
	redeem_url        text NOT NULL DEFAULT '',
	failure_code      text,          -- NULL when the request has no failure
	failure_message   text NOT NULL DEFAULT '',
	failure_retryable boolean NOT NULL DEFAULT false,
	failure_step      text NOT NULL DEFAULT '',
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL,
	UNIQUE (profile, email_key)
);
CREATE INDEX requests_run ON requests (run_id, seq);
CREATE INDEX requests_state ON requests (state, seq);
CREATE INDEX requests_email ON requests (email_key, seq);

-- Every transition of a request, the creation included (from_state '').
CREATE TABLE request_history (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request_id text NOT NULL REFERENCES requests (id),
	from_state text NOT NULL,
	to_state   text NOT NULL,
	at         timestamptz NOT NULL,
	note       text NOT NULL DEFAULT ''
);
CREATE INDEX request_history_request ON request_history (request_id, seq);

-- Steps: the intent to do one unit of a request's work, then its outcome.
CREATE TABLE steps (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request_id  text NOT NULL REFERENCES requests (id),
	name        text NOT NULL,
	state       text NOT NULL,
	attempts    integer NOT NULL,
	started_at  timestamptz NOT NULL,
	finished_at timestamptz,   -- NULL while started
	result      text NOT NULL DEFAULT '',
	graph_id    text NOT NULL DEFAULT '',
	error       text NOT NULL DEFAULT '',
	UNIQUE (request_id, name)
);

-- Guests as last seen in the directory.
CREATE TABLE guests (
	user_id      text PRIMARY KEY,
	email        text NOT NULL,
	email_key    text NOT NULL,
	upn          text NOT NULL DEFAULT '',
	display_name text NOT NULL DEFAULT '',
	redemption   text NOT NULL DEFAULT '',
	enabled      boolean NOT NULL DEFAULT false,
	invited_at   timestamptz,
	last_sign_in timestamptz,
	profiles     text[] NOT NULL DEFAULT '{}',
	updated_at   timestamptz NOT NULL
);
CREATE INDEX guests_email ON guests (email_key, updated_at);

-- What foyer granted to whom through which profile.
CREATE TABLE held_grants (
	user_id    text NOT NULL,
	profile    text NOT NULL,
	grant_key  text NOT NULL,
	grant_text text NOT NULL DEFAULT '',
	granted_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, profile, grant_key)
);

-- The append-only audit log. seq comes from a sequence: increasing in the
-- order entries are appended, which under concurrent transactions need not
-- be the order they commit (see docs/ledger.md).
CREATE TABLE audit (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         timestamptz NOT NULL,
	kind       text NOT NULL,
	actor      text NOT NULL DEFAULT '',
	run_id     text NOT NULL DEFAULT '',
	request_id text NOT NULL DEFAULT '',
	op         text NOT NULL,
	target     text NOT NULL DEFAULT '',
	graph_id   text NOT NULL DEFAULT '',
	error      text NOT NULL DEFAULT '',
	detail     text NOT NULL DEFAULT ''
);
CREATE INDEX audit_run ON audit (run_id, seq);
CREATE INDEX audit_request ON audit (request_id, seq);

-- Statement-level, so that it fires even when no row matches, and covers
-- TRUNCATE, which row triggers do not see.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- Named, expiring, fenced locks. owner is '' once released; generation
-- grows each time the lease changes hands and is never reset.
CREATE TABLE leases (
	name       text PRIMARY KEY,
	owner      text NOT NULL,
	generation bigint NOT NULL,
	until      timestamptz NOT NULL
);
