-- What a reporter adds to a ticket already queued (a comment, files) is a
-- ticket row of its own whose parent_id names the ticket; its deliveries
-- are update actions, one per connection the parent goes to. Lists show
-- top-level tickets only.
ALTER TABLE tickets ADD COLUMN parent_id TEXT REFERENCES tickets(id) ON DELETE CASCADE;
CREATE INDEX tickets_parent ON tickets (parent_id) WHERE parent_id IS NOT NULL;
