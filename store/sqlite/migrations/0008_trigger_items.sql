-- What triggers applied from a blob prefix, an Event Grid event or a
-- watched folder: one row per version of an input (a blob's ETag, a
-- file's size and modification time), so that each version is applied
-- once, whenever it is found again. Keep in step with
-- store/postgres/migrations/0008_trigger_items.sql.
CREATE TABLE trigger_items (
	trigger_name TEXT NOT NULL,
	item         TEXT NOT NULL,
	version      TEXT NOT NULL,
	state        TEXT NOT NULL,      -- seen, applied, failed
	run_id       TEXT NOT NULL DEFAULT '',
	detail       TEXT NOT NULL DEFAULT '',
	seen_at      TEXT NOT NULL,
	done_at      TEXT,               -- NULL while seen
	PRIMARY KEY (trigger_name, item, version)
) WITHOUT ROWID;
