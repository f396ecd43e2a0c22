-- Connection health, written by whichever process drains (the tray app or
-- serve), read by `connections list` in another. last_error is sealed.
CREATE TABLE connection_health (
	connection      TEXT PRIMARY KEY,
	state           TEXT NOT NULL, -- healthy, degraded, down, breaker_open
	last_success_at INTEGER,
	last_error_at   INTEGER,
	last_error      BLOB,
	error_dek_id    INTEGER REFERENCES deks(id),
	updated_at      INTEGER NOT NULL
) STRICT;

-- Set when a failed attempt may have reached the vendor (any completed
-- attempt that was not offline): the next create must find by key first.
-- Unlike attempts, staff retries never reset it. (An attempt whose lease
-- expired in flight is uncertain too; Lease sees that from its state.)
ALTER TABLE deliveries ADD COLUMN ever_sent INTEGER NOT NULL DEFAULT 0;
