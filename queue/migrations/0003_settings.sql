-- A small key-value store the app keeps its last good config in. Values
-- are sealed like payloads: a config names servers and people.
CREATE TABLE settings (
	name       TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	dek_id     INTEGER NOT NULL REFERENCES deks(id),
	updated_at INTEGER NOT NULL -- unix ms
) STRICT;
