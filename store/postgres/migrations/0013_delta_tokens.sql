-- Delta tokens: the change-tracking token of a directory's delta query,
-- one per tenant and kind ("users"), so that a redemption sync reads only
-- the users that changed since the last round. Keep in step with
-- store/sqlite/migrations/0013_delta_tokens.sql.
CREATE TABLE delta_tokens (
	tenant     text NOT NULL,
	kind       text NOT NULL,
	token      text NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (tenant, kind)
);
