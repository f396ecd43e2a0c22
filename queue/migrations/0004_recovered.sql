-- Tickets salvaged from a damaged file whose deliveries could not be read:
-- they may have reached a vendor already, so the deliveries AssignOrphans
-- gives them start uncertain (find by idempotency key before creating).
CREATE TABLE tickets_uncertain (
	ticket_id TEXT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE
) STRICT;
