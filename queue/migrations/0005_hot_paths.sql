-- Indexes that the hot queries walk in order and stop at their limit, so a
-- lease costs the same with ten tickets waiting or ten thousand.

-- (state, next_attempt_at) made Lease read and sort every due and in-flight
-- row; the two partial indexes below serve it per connection instead.
DROP INDEX deliveries_due;

-- Due work per connection, oldest first: Lease and NextDue.
CREATE INDEX deliveries_ready ON deliveries (connection, next_attempt_at) WHERE state IN ('pending', 'retry');
-- Leases per connection by expiry: Lease (expired leases), NextDue and the
-- orphan reclaim, which read in-flight rows only.
CREATE INDEX deliveries_leased ON deliveries (connection, lease_expires_at) WHERE state = 'in_flight';

-- Retiring a data key after a rotation looks up whether any row still uses
-- it. Rows sealing an error are few, so these indexes cost little. tickets
-- and events get none: every enqueue and every outcome would pay a page
-- for it, and the one read of a rotation (NOT IN, a single pass) is linear
-- without it.
CREATE INDEX deliveries_error_dek ON deliveries (error_dek_id) WHERE error_dek_id IS NOT NULL;
CREATE INDEX health_error_dek ON connection_health (error_dek_id) WHERE error_dek_id IS NOT NULL;
CREATE INDEX settings_dek ON settings (dek_id);

-- The status line's counts, kept by triggers so that reading them costs the
-- same whatever the backlog: deliveries by connection and state, and under
-- ('', 'unrouted') the tickets that have no delivery yet.
CREATE TABLE delivery_counts (
	connection TEXT NOT NULL,
	state      TEXT NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (connection, state)
) STRICT, WITHOUT ROWID;

INSERT INTO delivery_counts (connection, state, n)
	SELECT connection, state, COUNT(*) FROM deliveries GROUP BY connection, state;
INSERT INTO delivery_counts (connection, state, n)
	SELECT '', 'unrouted', COUNT(*) FROM tickets WHERE id NOT IN (SELECT ticket_id FROM deliveries);

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries BEGIN
	INSERT INTO delivery_counts (connection, state, n) VALUES (NEW.connection, NEW.state, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
	UPDATE delivery_counts SET n = n - 1 WHERE connection = '' AND state = 'unrouted'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = NEW.ticket_id AND id != NEW.id);
END;

CREATE TRIGGER delivery_counts_update AFTER UPDATE OF state, connection ON deliveries
	WHEN OLD.state != NEW.state OR OLD.connection != NEW.connection BEGIN
	UPDATE delivery_counts SET n = n - 1 WHERE connection = OLD.connection AND state = OLD.state;
	INSERT INTO delivery_counts (connection, state, n) VALUES (NEW.connection, NEW.state, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- Also fired by the cascade from tickets, after the ticket row is gone.
CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries BEGIN
	UPDATE delivery_counts SET n = n - 1 WHERE connection = OLD.connection AND state = OLD.state;
	UPDATE delivery_counts SET n = n + 1 WHERE connection = '' AND state = 'unrouted'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = OLD.ticket_id)
		AND EXISTS (SELECT 1 FROM tickets WHERE id = OLD.ticket_id);
END;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
	INSERT INTO delivery_counts (connection, state, n) VALUES ('', 'unrouted', 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- BEFORE: the cascade has not yet deleted the ticket's deliveries.
CREATE TRIGGER ticket_counts_delete BEFORE DELETE ON tickets BEGIN
	UPDATE delivery_counts SET n = n - 1 WHERE connection = '' AND state = 'unrouted'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = OLD.id);
END;
