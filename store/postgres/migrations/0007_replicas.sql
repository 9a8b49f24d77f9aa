-- Writes shared by several processes on one ledger (foyer serve replicas):
-- each budget (a key such as an app and tenant) keeps a sliding-window log
-- of the write units reserved in it. A reservation locks the budget's row
-- for its transaction, so that two replicas never both take its last unit.
CREATE TABLE write_budgets (
	key text PRIMARY KEY
);

CREATE TABLE write_slots (
	key   text NOT NULL REFERENCES write_budgets (key),
	at    timestamptz NOT NULL,
	units integer NOT NULL
);

CREATE INDEX write_slots_by_key_at ON write_slots (key, at);
