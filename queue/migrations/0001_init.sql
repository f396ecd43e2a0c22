-- Clear columns hold only ids, states, times, connection names and remote
-- numbers. Everything a person wrote, or that identifies them, lives in an
-- AES-256-GCM blob whose dek_id names the data key that sealed it.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- Data keys, each wrapped by the key-encryption key. The highest id is the
-- active key; older rows exist only while a rotation is in progress.
CREATE TABLE deks (
	id         INTEGER PRIMARY KEY,
	wrapped    BLOB NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tickets (
	id         TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL, -- unix ms
	dek_id     INTEGER NOT NULL REFERENCES deks(id),
	payload    BLOB NOT NULL
) STRICT;

CREATE TABLE deliveries (
	id               INTEGER PRIMARY KEY,
	ticket_id        TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	connection       TEXT NOT NULL,
	action           TEXT NOT NULL CHECK (action IN ('create', 'update', 'sync')),
	state            TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'delivered', 'retry', 'dead')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER NOT NULL,
	lease_token      TEXT,
	lease_expires_at INTEGER,
	remote_id        TEXT,
	remote_number    TEXT,
	remote_url       TEXT,
	last_error       BLOB,    -- sealed: vendor messages may echo personal data
	error_dek_id     INTEGER REFERENCES deks(id),
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	delivered_at     INTEGER
) STRICT;

CREATE UNIQUE INDEX deliveries_one_create ON deliveries (ticket_id, connection) WHERE action = 'create';
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_ticket ON deliveries (ticket_id);

-- Delivery history, for staff. detail is sealed like last_error.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	at          INTEGER NOT NULL,
	state       TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	detail      BLOB,
	dek_id      INTEGER REFERENCES deks(id)
) STRICT;

CREATE INDEX events_delivery ON events (delivery_id);
