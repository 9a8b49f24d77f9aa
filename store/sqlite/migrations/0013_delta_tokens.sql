-- Delta tokens: the change-tracking token of a directory's delta query,
-- one per tenant and kind ("users"), so that a redemption sync reads only
-- the users that changed since the last round. Keep in step with
-- store/postgres/migrations/0013_delta_tokens.sql.
CREATE TABLE delta_tokens (
	tenant     TEXT NOT NULL,
	kind       TEXT NOT NULL,
	token      TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (tenant, kind)
);
