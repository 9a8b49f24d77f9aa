-- Extensions: someone asks for more time for a guest's access, and the
-- profile's approval policy decides, as for a request. Keep in step with
-- store/sqlite/migrations/0010_extensions.sql.
--
-- seq orders them as they were asked. The partial unique index keeps a
-- request to one pending extension at a time, whoever asks at once.
CREATE TABLE extensions (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id            text NOT NULL UNIQUE,
	request_id    text NOT NULL REFERENCES requests (id),
	until         timestamptz NOT NULL,
	justification text NOT NULL DEFAULT '',
	asked_by      text NOT NULL DEFAULT '',
	state         text NOT NULL,
	stage         integer NOT NULL DEFAULT 0,
	stage_due     timestamptz,   -- NULL while no stage waits
	escalated     boolean NOT NULL DEFAULT false,
	decided_by    text NOT NULL DEFAULT '',
	note          text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);
CREATE INDEX extensions_request ON extensions (request_id, seq);
CREATE INDEX extensions_state ON extensions (state, seq);
CREATE UNIQUE INDEX extensions_one_pending ON extensions (request_id) WHERE state = 'pending_approval';
