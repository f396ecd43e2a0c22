package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Remote identifies a ticket in a vendor system.
type Remote struct {
	ID     string `json:"id"`     // the vendor's key: sys_id, issue id, request id
	Number string `json:"number"` // what people quote: INC0010023, PROJ-12
	URL    string `json:"url"`    // a link for a browser
}

// RemoteStatus is a remote ticket's state as the vendor reports it.
type RemoteStatus struct {
	Remote
	Status    string    `json:"status"` // the vendor's own status name or code
	UpdatedAt time.Time `json:"updatedAt,omitempty"`
}

// ErrNotFound is returned by Find when no ticket carries the key.
var ErrNotFound = errors.New("not found")

// Connector speaks one vendor's protocol for one configured connection.
// It never retries, sleeps or rate-limits: the decorators and the queue's
// dispatcher do that for every vendor alike. Errors that came from the
// network or the vendor are *Error, so they can be classified.
type Connector interface {
	// Create creates the ticket, carrying t.IdempotencyKey where the vendor
	// can search for it.
	Create(ctx context.Context, t *Ticket) (Remote, error)
	// Find returns the ticket created with the idempotency key, or
	// ErrNotFound. It lets a retry after an unknown outcome avoid a
	// duplicate.
	Find(ctx context.Context, idempotencyKey string) (Remote, error)
	// Status reads the remote ticket's current status.
	Status(ctx context.Context, r Remote) (RemoteStatus, error)
	// Comment adds a note to the remote ticket.
	Comment(ctx context.Context, r Remote, text string) error
	// Attach uploads a file to the remote ticket.
	Attach(ctx context.Context, r Remote, a Attachment) error
	// Check proves the credentials (and, where the API can tell, the
	// permission to create) with a harmless read.
	Check(ctx context.Context) error
}

// Reporter is implemented by connectors whose check learns something worth
// showing when it passes (Salesforce: the org's API usage from
// Sforce-Limit-Info). `connections test` calls Report instead of Check
// when a connector has it.
type Reporter interface {
	Report(ctx context.Context) (string, error)
}

// Deps are what a factory may use besides the connection's config.
type Deps struct {
	// HTTP is the client to send requests with: TLS policy, timeout, proxy,
	// User-Agent and authentication are already applied.
	HTTP *http.Client
	// Credential resolves one credentials field of the connection (see
	// CredentialResolver), for connectors that log in with them to get a
	// session token. Nil when the builder has none to offer.
	Credential func(field string) (string, error)
}

// Factory builds a Connector for a connection of its type.
type Factory func(c Connection, d Deps) (Connector, error)

// Driver is what a vendor package registers for its connector type, as a
// database/sql driver registers itself: how to build a connector, and the
// vendor's own config rules.
type Driver struct {
	// New builds a connector. It may assume Validate found no problem.
	New Factory
	// Validate returns the vendor's own problems with a connection
	// (required options, the form of mapping values), beyond the shared
	// rules Connection.Validate applies to every type. Field is relative
	// to the connection ("options.projectKey", "mappings.priority.high");
	// Msg never repeats a value. Nil means no vendor rules.
	Validate func(c Connection) []FieldError
	// CheckMapping, when set, says whether value is a form the vendor
	// accepts in a mapping table of kind ("priority", "category",
	// "status"); see CheckMappingRow.
	CheckMapping func(kind, value string) error
	// TokenOnly says the vendor's api_token credentials need no username
	// (Freshservice authenticates by the API key alone).
	TokenOnly bool
	// StatusRows are the built-in status rows: vendor status (or status
	// category) → local state; a connection's mappings.status is laid
	// over them (see Connection.StatusTable).
	StatusRows map[string]string
	// LocalStatus, when set, maps an update whose meaning the table alone
	// cannot give (ServiceNow's On Hold depends on the hold reason); ""
	// leaves it to the table.
	LocalStatus func(table map[string]string, u Update) string
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Driver{}
)

// Register makes a connector type available. It panics if the type is
// registered twice or without a factory: both are programming errors.
func Register(typ string, d Driver) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if d.New == nil {
		panic("connectors: Register called without a factory for " + typ)
	}
	if _, dup := registry[typ]; dup {
		panic("connectors: Register called twice for " + typ)
	}
	registry[typ] = d
}

// Registered lists the registered types, sorted.
func Registered() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func lookup(typ string) (Driver, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	d, ok := registry[typ]
	return d, ok
}

// New builds the connector for c with the registered factory.
func New(c Connection, d Deps) (Connector, error) {
	drv, ok := lookup(c.Type)
	if !ok {
		return nil, fmt.Errorf("connection %q: connector type %q is not available in this build", c.Name, c.Type)
	}
	return drv.New(c, d)
}
