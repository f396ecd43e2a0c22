-- A lease writes one page, an enqueue writes no counts (issue 11).
--
-- Every page a commit writes is two write calls and part of its fsync:
-- one page is about half a percent of a cycle. A lease wrote three (the
-- delivery, out of deliveries_ready, into deliveries_leased) and every
-- enqueue and outcome also wrote the delivery_counts page.

-- settled_at is when the delivery was delivered or died; NULL while it has
-- work left (pending, in flight or waiting to retry). Only an outcome or a
-- retry of a dead delivery changes it, never a lease.
ALTER TABLE deliveries ADD COLUMN settled_at INTEGER;
UPDATE deliveries SET settled_at = COALESCE(delivered_at, updated_at) WHERE state IN ('delivered', 'dead');

-- One index of the work left, per connection in due order. A lease marks
-- the delivery in flight without touching it (neither its key nor the
-- column of its condition changes), so the lease's commit writes the
-- delivery's page alone. Deliveries in flight keep their place, at the
-- front: Lease and NextDue step over them, and they are at most as many
-- as the leases held at once. When Lease finds nothing due, the due end of
-- this index holds only leases still running, which is what the orphan
-- reclaim reads.
DROP INDEX deliveries_ready;
DROP INDEX deliveries_leased;
CREATE INDEX deliveries_open ON deliveries (settled_at, connection, next_attempt_at) WHERE settled_at IS NULL;

-- Code sets settled_at with the state. A statement that does not (one of
-- an older release still running while a newer one upgraded the file)
-- would leave a settled delivery in deliveries_open, or a waiting one out
-- of it; these set it right on the same row instead (never, for this
-- release's statements: their WHEN is false).
CREATE TRIGGER deliveries_settled_insert AFTER INSERT ON deliveries
	WHEN (NEW.state IN ('delivered', 'dead')) != (NEW.settled_at IS NOT NULL) BEGIN
	UPDATE deliveries SET settled_at = CASE WHEN NEW.state IN ('delivered', 'dead') THEN NEW.updated_at END WHERE id = NEW.id;
END;
CREATE TRIGGER deliveries_settled_update AFTER UPDATE OF state, settled_at ON deliveries
	WHEN (NEW.state IN ('delivered', 'dead')) != (NEW.settled_at IS NOT NULL) BEGIN
	UPDATE deliveries SET settled_at = CASE WHEN NEW.state IN ('delivered', 'dead') THEN NEW.updated_at END WHERE id = NEW.id;
END;

-- delivery_counts keeps only what is settled (delivered and dead, by
-- connection) and the tickets with no delivery (unrouted): an outcome
-- writes its page, an enqueue does not. The work left is counted from
-- deliveries_open, which holds nothing else (Store.counts).
--
-- Unrouted is kept by the code that makes or routes a ticket without a
-- delivery (Enqueue without targets, recover, AssignOrphans): a trigger on
-- tickets cannot know whether deliveries follow in the same commit, and
-- counting up and down again cost every enqueue a page. Deleting a
-- ticket's last delivery or a ticket without any stays with triggers.
DROP TRIGGER ticket_counts_insert;
DROP TRIGGER delivery_counts_insert;
DROP TRIGGER delivery_counts_update;
DROP TRIGGER delivery_counts_delete;

DELETE FROM delivery_counts;
INSERT INTO delivery_counts (connection, state, n)
	SELECT connection, state, COUNT(*) FROM deliveries WHERE state IN ('delivered', 'dead') GROUP BY 1, 2;
INSERT INTO delivery_counts (connection, state, n)
	SELECT '', 'unrouted', COUNT(*) FROM tickets WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = tickets.id);

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries
	WHEN NEW.state IN ('delivered', 'dead') BEGIN
	INSERT INTO delivery_counts (connection, state, n) VALUES (NEW.connection, NEW.state, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER delivery_counts_update AFTER UPDATE OF state, connection ON deliveries
	WHEN (OLD.state IN ('delivered', 'dead') OR NEW.state IN ('delivered', 'dead'))
		AND (OLD.state != NEW.state OR OLD.connection != NEW.connection) BEGIN
	UPDATE delivery_counts SET n = n - 1
		WHERE OLD.state IN ('delivered', 'dead') AND connection = OLD.connection AND state = OLD.state;
	INSERT INTO delivery_counts (connection, state, n)
		SELECT NEW.connection, NEW.state, 1 WHERE NEW.state IN ('delivered', 'dead')
		ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- Also fired by the cascade from tickets, after the ticket row is gone.
CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries BEGIN
	UPDATE delivery_counts SET n = n - 1
		WHERE OLD.state IN ('delivered', 'dead') AND connection = OLD.connection AND state = OLD.state;
	UPDATE delivery_counts SET n = n + 1 WHERE connection = '' AND state = 'unrouted'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE ticket_id = OLD.ticket_id)
		AND EXISTS (SELECT 1 FROM tickets WHERE id = OLD.ticket_id);
END;

-- An enqueue is one statement, which commits on its own: BEGIN and COMMIT
-- cost two round trips, about a tenth of a commit. An insert into this
-- view stores the ticket and one pending delivery per target (targets:
-- a JSON array of [connection, action] pairs), and counts the ticket as
-- unrouted when it has none. It refuses a ticket sealed with a data key
-- that is no longer the newest (another process rotated it meanwhile):
-- Store.enqueue seals again and retries.
CREATE VIEW enqueue_ticket (id, created_at, dek_id, payload, parent_id, targets, now) AS
	SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER enqueue_ticket_insert INSTEAD OF INSERT ON enqueue_ticket BEGIN
	SELECT RAISE(ABORT, 'queue: stale data key') WHERE NEW.dek_id IS NOT (SELECT MAX(id) FROM deks);
	INSERT INTO tickets (id, created_at, dek_id, payload, parent_id)
		VALUES (NEW.id, NEW.created_at, NEW.dek_id, NEW.payload, NEW.parent_id);
	INSERT INTO deliveries (ticket_id, connection, action, state, next_attempt_at, created_at, updated_at)
		SELECT NEW.id, value ->> 0, value ->> 1, 'pending', NEW.now, NEW.now, NEW.now FROM json_each(NEW.targets);
	UPDATE delivery_counts SET n = n + 1 WHERE connection = '' AND state = 'unrouted' AND NEW.targets = '[]';
END;
