-- Extensions: someone asks for more time for a guest's access, and the
-- profile's approval policy decides, as for a request. Keep in step with
-- store/postgres/migrations/0010_extensions.sql.
--
-- seq orders them as they were asked. The partial unique index keeps a
-- request to one pending extension at a time, whoever asks at once.
CREATE TABLE extensions (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	id            TEXT NOT NULL UNIQUE,
	request_id    TEXT NOT NULL REFERENCES requests (id),
	until         TEXT NOT NULL,
	justification TEXT NOT NULL DEFAULT '',
	asked_by      TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL,
	stage         INTEGER NOT NULL DEFAULT 0,
	stage_due     TEXT,          -- NULL while no stage waits
	escalated     INTEGER NOT NULL DEFAULT 0,
	decided_by    TEXT NOT NULL DEFAULT '',
	note          TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
);
CREATE INDEX extensions_request ON extensions (request_id, seq);
CREATE INDEX extensions_state ON extensions (state, seq);
CREATE UNIQUE INDEX extensions_one_pending ON extensions (request_id) WHERE state = 'pending_approval';
