-- Writes shared by several processes on one ledger (foyer serve replicas):
-- each budget (a key such as an app and tenant) keeps a sliding-window log
-- of the write units reserved in it. On SQLite a transaction holds the
-- write lock from its start, so a reservation is already alone.
CREATE TABLE write_budgets (
	key TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE write_slots (
	key   TEXT NOT NULL REFERENCES write_budgets (key),
	at    TEXT NOT NULL,
	units INTEGER NOT NULL
);

CREATE INDEX write_slots_by_key_at ON write_slots (key, at);
