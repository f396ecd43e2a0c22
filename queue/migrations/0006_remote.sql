-- What the help desk's side last said of a delivered ticket, from a sync
-- or a webhook. status is the local state (backlog, in_progress,
-- waiting_on_you, resolved, closed): no personal data, kept clear to pick
-- the tickets still worth syncing. Everything the vendor said (its own
-- status words, the assignee's name, comments) is sealed in detail.
CREATE TABLE remote_state (
	delivery_id INTEGER PRIMARY KEY REFERENCES deliveries(id) ON DELETE CASCADE,
	status      TEXT NOT NULL,
	synced_at   INTEGER NOT NULL,
	dek_id      INTEGER NOT NULL REFERENCES deks(id),
	detail      BLOB NOT NULL
) STRICT;
CREATE INDEX remote_state_dek ON remote_state (dek_id);
