-- A guest's row lists the profiles it holds through foyer: those of its
-- requests (by the guest's object id, whatever address each was made
-- for) that are invited or active. The engine recomputes the list in the
-- transaction of every move that changes it, reading the requests by
-- user_id; this index serves that read. Rows written before this
-- migration held no profiles: they are filled once here, in byte order
-- as the engine sorts them. Keep in step with
-- store/postgres/migrations/0012_guest_profiles.sql.
CREATE INDEX requests_user ON requests (user_id, seq);
UPDATE guests SET profiles = (
	SELECT json_group_array(profile ORDER BY profile) FROM (
		SELECT profile FROM requests
		WHERE requests.user_id = guests.user_id AND state IN ('invited', 'active')
		GROUP BY profile));
