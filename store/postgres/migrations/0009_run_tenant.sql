-- A run belongs to one tenant of the configuration (tenants:), the one its
-- profile named when the run was recorded: its invitations, grants, block
-- check and report are that tenant's. Runs recorded before this migration
-- hold '' and act on their profile's tenant (the only one, in a
-- configuration of one tenant).
ALTER TABLE runs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
