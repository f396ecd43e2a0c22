-- Each commit of the hot path writes fewer pages (issue 11).
--
-- A ticket has at most one delivery per connection, whatever its action
-- (an addition is a ticket of its own), so one unique index serves both
-- "one create per connection" and "the deliveries of a ticket".
--
-- Before 0008 only creates were unique: a queue could hold two update
-- deliveries of one ticket to one connection (no app path made them, but
-- Enqueue took any target list, and recover copies what a file holds).
-- One per pair is kept, the delivered one first, so that the index can be
-- made and the queue opens; their events go with the others (cascade).
DELETE FROM deliveries WHERE id IN (
	SELECT id FROM (
		SELECT id, ROW_NUMBER() OVER (PARTITION BY ticket_id, connection ORDER BY state = 'delivered' DESC, id) AS n
		FROM deliveries)
	WHERE n > 1);
DROP INDEX deliveries_one_create;
DROP INDEX deliveries_ticket;
CREATE UNIQUE INDEX deliveries_ticket ON deliveries (ticket_id, connection);

-- History keeps what the delivery row cannot tell. The start of the
-- current attempt is leased_at on the row (kept after it ends, so a
-- delivered row tells its last attempt's start and delivered_at its end);
-- an outcome event carries its attempt's start in started_at; an attempt
-- whose process died in flight is recorded as an in_flight event when the
-- next lease takes it over. Lease and a successful Complete then write no
-- event row: Store.Events puts the history together.
ALTER TABLE deliveries ADD COLUMN leased_at INTEGER;
ALTER TABLE events ADD COLUMN started_at INTEGER;

-- A lease writes no counts page either: delivery_counts counts a delivery
-- in flight under 'pending' (where it was, or will be again when it goes
-- offline), so only an outcome changes the counts. Store.counts takes the
-- in-flight ones out again by walking deliveries_leased, an index of the
-- few deliveries in flight.
DROP TRIGGER delivery_counts_insert;
DROP TRIGGER delivery_counts_update;
DROP TRIGGER delivery_counts_delete;

DELETE FROM delivery_counts WHERE NOT (connection = '' AND state = 'unrouted');
INSERT INTO delivery_counts (connection, state, n)
	SELECT connection, CASE state WHEN 'in_flight' THEN 'pending' ELSE state END, COUNT(*)
	FROM deliveries GROUP BY 1, 2;

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries BEGIN
	INSERT INTO delivery_counts (connection, state, n)
		VALUES (NEW.connection, CASE NEW.state WHEN 'in_flight' THEN 'pending' ELSE NEW.state END, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
	UPDATE delivery_counts SET n = n - 1 WHERE connection = '' AND state = 'unrouted'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = NEW.ticket_id AND id != NEW.id);
END;

CREATE TRIGGER delivery_counts_update AFTER UPDATE OF state, connection ON deliveries
	WHEN OLD.connection != NEW.connection
		OR CASE OLD.state WHEN 'in_flight' THEN 'pending' ELSE OLD.state END
			!= CASE NEW.state WHEN 'in_flight' THEN 'pending' ELSE NEW.state END BEGIN
	UPDATE delivery_counts SET n = n - 1
		WHERE connection = OLD.connection AND state = CASE OLD.state WHEN 'in_flight' THEN 'pending' ELSE OLD.state END;
	INSERT INTO delivery_counts (connection, state, n)
		VALUES (NEW.connection, CASE NEW.state WHEN 'in_flight' THEN 'pending' ELSE NEW.state END, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries BEGIN
	UPDATE delivery_counts SET n = n - 1
		WHERE connection = OLD.connection AND state = CASE OLD.state WHEN 'in_flight' THEN 'pending' ELSE OLD.state END;
	UPDATE delivery_counts SET n = n + 1 WHERE connection = '' AND state = 'unrouted'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = OLD.ticket_id)
		AND EXISTS (SELECT 1 FROM tickets WHERE id = OLD.ticket_id);
END;
