// Package app wires configuration, the queue, connectors and diagnostics
// into the service that both the CLI and the tray GUI drive.
package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	_ "github.com/ticketray/ticketray/connectors/all" // the connector registry
	"github.com/ticketray/ticketray/connectors/secrets"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

// Version is set at build time with -ldflags "-X .../app.Version=…".
var Version = "0.1.0-dev"

// Environment variables Ticketray reads.
const (
	EnvDBPath          = "OFFLINE_QUEUE_DB_PATH"
	EnvPassphrase      = "OFFLINE_QUEUE_ENCRYPTION_KEY"
	EnvKeyringBackend  = "TICKETRAY_KEYRING_BACKEND"
	EnvKeyringPassword = "TICKETRAY_KEYRING_PASSWORD"
)

// Retention is how long delivered tickets are kept before they are purged.
const Retention = 30 * 24 * time.Hour

// kdfCost is the Argon2id cost for passphrase-derived keys. Tests lower it.
var kdfCost = queue.PassphraseKEK{Time: 3, MemoryKiB: 64 << 10, Threads: 2}

// Options say where the service's config and queue live.
type Options struct {
	ConfigPath string // --config; "" means the user's config file, if any
	// ManagedDir holds IT's files (config.json, config.d/, config.pub).
	// "" means $TICKETRAY_MANAGED_DIR (for tests and packaging), then the
	// platform's directory (see config.DefaultManagedDir).
	ManagedDir string
	DBPath     string // --db; "" means $OFFLINE_QUEUE_DB_PATH, then the data dir
	Getenv     func(string) string
	// Warn receives config warnings (locked keys overridden, secrets moved
	// or world-readable). Default: standard error.
	Warn func(config.Problem)
}

// Service is an open Ticketray: its config and its queue.
type Service struct {
	Config *config.Config
	// Loaded is the layered config Config came from, with its sources.
	Loaded    *config.Loaded
	opts      Options // how the config was found, to watch it
	Store     *queue.Store
	sessionID string
	getenv    func(string) string
	ring      *lazyKeyring // shared by copies made by WithConfig
	// route is the config new tickets are routed by, when a long-lived
	// process (the tray's windows process) follows config changes with
	// UseConfig; nil: Config.
	route *atomic.Pointer[config.Config]
	// ConfigErr is why the config files could not be used (nil when they
	// could); ConfigFallback says what is used instead.
	ConfigErr      error
	ConfigFallback string
}

// lazyKeyring opens the keyring on first use and keeps it: opening probes
// the Secret Service with a write, which must not happen per connector or
// per config reload. A failure is not kept for good: the keyring may come
// up later (a desktop session unlocking it after login), so it is tried
// again, at most every keyringRetry.
type lazyKeyring struct {
	mu       sync.Mutex
	ring     *secrets.Keyring
	err      error
	failedAt time.Time
}

const keyringRetry = 10 * time.Second

// keyring returns the service's keyring, opened once it can be.
func (s *Service) keyring() (*secrets.Keyring, error) {
	if s.ring == nil { // a Service built by hand (tests): no cache
		return OpenKeyring(s.getenv)
	}
	k := s.ring
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ring != nil {
		return k.ring, nil
	}
	if k.err != nil && time.Since(k.failedAt) < keyringRetry {
		return nil, k.err
	}
	k.ring, k.err = OpenKeyring(s.getenv)
	if k.err != nil {
		k.failedAt = time.Now()
	}
	return k.ring, k.err
}

// DataDir is where Ticketray keeps its queue on this platform.
func DataDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "Ticketray"), nil
		}
	case "darwin":
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, "Library", "Application Support", "Ticketray"), nil
		}
	default:
		if d := getenv("XDG_DATA_HOME"); d != "" {
			return filepath.Join(d, "ticketray"), nil
		}
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, ".local", "share", "ticketray"), nil
		}
	}
	return "", fmt.Errorf("cannot find a data directory: set %s or pass --db", EnvDBPath)
}

// DBPath resolves the queue file: --db, then OFFLINE_QUEUE_DB_PATH, then
// the data dir.
func DBPath(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := getenv(EnvDBPath); p != "" {
		return p, nil
	}
	dir, err := DataDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "queue.db"), nil
}

// LoadConfig reads the layered config: the managed files over --config,
// else over the user's config file; defaults when there is no file. It
// never rewrites a file (Open moves literal secrets to the keyring).
func LoadConfig(path string) (*config.Config, error) {
	l, err := LoadLayered(Options{ConfigPath: path}, false)
	if err != nil {
		return nil, err
	}
	return l.Config, nil
}

// LoadOptions turns o into the config loader's options. With migrate,
// literal secrets in the user's own file move into the keyring.
func (o Options) LoadOptions(migrate bool) config.LoadOptions {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	lo := config.LoadOptions{ConfigFile: o.ConfigPath, ManagedDir: o.ManagedDir}
	if lo.ManagedDir == "" {
		lo.ManagedDir = getenv(config.EnvManagedDir)
	}
	if lo.ManagedDir == "" {
		lo.ManagedDir = config.DefaultManagedDir(runtime.GOOS, getenv)
	}
	if o.ConfigPath == "" {
		if p, err := config.UserFile(); err == nil {
			lo.UserFile = p
		}
	}
	if migrate {
		lo.Secrets = func() (config.SecretStore, error) { return OpenKeyring(getenv) }
	}
	return lo
}

// LoadLayered loads the layered config with its sources and warnings.
func LoadLayered(o Options, migrate bool) (*config.Loaded, error) {
	return config.LoadLayers(o.LoadOptions(migrate))
}

// KEKSource picks the queue's key source: a passphrase from
// OFFLINE_QUEUE_ENCRYPTION_KEY, else the OS keyring, else (only when
// TICKETRAY_KEYRING_PASSWORD is set) the file keyring in the data dir.
func KEKSource(getenv func(string) string) (queue.KEKSource, error) {
	if p := getenv(EnvPassphrase); p != "" {
		k := kdfCost
		k.Passphrase = []byte(p)
		return k, nil
	}
	ring, err := OpenKeyring(getenv)
	if err != nil {
		return nil, err
	}
	return queue.KeyringKEK{Store: ring}, nil
}

// OpenKeyring opens the keyring that TICKETRAY_KEYRING_BACKEND names, or
// the first OS keyring, falling back to the file keyring when a password
// for it is set.
func OpenKeyring(getenv func(string) string) (*secrets.Keyring, error) {
	dir, err := DataDir(getenv)
	if err != nil {
		dir = ""
	}
	fileDir := filepath.Join(dir, "keyring")
	o := secrets.Options{Backend: getenv(EnvKeyringBackend), FileDir: fileDir, FilePassword: getenv(EnvKeyringPassword)}
	ring, err := secrets.Open(o)
	if err != nil && o.Backend == "" && o.FilePassword != "" && errors.Is(err, secrets.ErrUnavailable) {
		o.Backend = "file"
		ring, err = secrets.Open(o)
	}
	if err != nil {
		return nil, fmt.Errorf("%w\n  the queue key lives in the OS keyring; without one, set %s to a passphrase,\n  or %s to use the file keyring in %s", err, EnvPassphrase, EnvKeyringPassword, fileDir)
	}
	return ring, nil
}

// Open opens the queue and loads the config. A broken config never stops
// the queue from opening: the last good config (kept sealed in the queue)
// is used instead, else none, and ConfigErr says what is wrong, so a
// report is always saved and routed once a valid config arrives.
func Open(ctx context.Context, o Options) (*Service, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	warn := o.Warn
	if warn == nil {
		warn = func(p config.Problem) { fmt.Fprintf(os.Stderr, "ticketray: warning: %s\n", p) }
	}
	path, err := DBPath(o.DBPath, o.Getenv)
	if err != nil {
		return nil, err
	}
	src, err := KEKSource(o.Getenv)
	if err != nil {
		return nil, err
	}
	st, err := queue.Open(ctx, path, queue.Options{KEK: src})
	if err != nil {
		return nil, err
	}
	s := &Service{Store: st, sessionID: connectors.NewKey(), getenv: o.Getenv, opts: o, ring: &lazyKeyring{}, route: &atomic.Pointer[config.Config]{}}
	loaded, err := LoadLayered(o, true)
	if err != nil {
		s.ConfigErr = err
		loaded = s.lastGoodConfig(ctx)
		warn(config.Problem{File: "config", Msg: fmt.Sprintf("%v\n  %s", err, s.ConfigFallback)})
	} else {
		s.rememberConfig(ctx, loaded)
	}
	for _, p := range loaded.Warnings {
		warn(p)
	}
	s.Config, s.Loaded = loaded.Config, loaded
	return s, nil
}

// lastGoodSetting names the queue setting that keeps the last config that
// loaded without error (sealed like tickets: it may hold IT's secrets).
const lastGoodSetting = "config.last-good"

// lastGoodName is the setting for the config this service was opened
// with: the layered config, or each --config FILE its own, so a file tried
// once never becomes the tray's fallback. The path is hashed: setting
// names are stored in clear.
func (s *Service) lastGoodName() string {
	if s.opts.ConfigPath == "" {
		return lastGoodSetting
	}
	p, err := filepath.Abs(s.opts.ConfigPath)
	if err != nil {
		p = s.opts.ConfigPath
	}
	sum := sha256.Sum256([]byte(p))
	return lastGoodSetting + "." + hex.EncodeToString(sum[:8])
}

// rememberConfig keeps l as the last good config, when it changed.
func (s *Service) rememberConfig(ctx context.Context, l *config.Loaded) {
	data, err := json.Marshal(l.Config)
	if err != nil {
		return
	}
	if old, err := s.Store.Setting(ctx, s.lastGoodName()); err == nil && bytes.Equal(old, data) {
		return
	}
	// Best effort: failing to keep a copy must not stop the caller.
	_ = s.Store.PutSetting(ctx, s.lastGoodName(), data)
}

// lastGoodConfig is the config to run with while the files are broken:
// the last good one, else the built-in default (no connections).
func (s *Service) lastGoodConfig(ctx context.Context) *config.Loaded {
	if data, err := s.Store.Setting(ctx, s.lastGoodName()); err == nil {
		var c config.Config
		if json.Unmarshal(data, &c) == nil {
			s.ConfigFallback = "using the last good configuration until it is fixed"
			return &config.Loaded{Config: &c, Fingerprint: s.opts.LoadOptions(false).Fingerprint()}
		}
	}
	s.ConfigFallback = "using no connections until it is fixed (tickets are kept and sent once it is)"
	// IT's layers still hold (policy, redaction) when only the user's file is broken.
	lo := s.opts.LoadOptions(false)
	lo.ConfigFile, lo.UserFile = "", ""
	if l, err := config.LoadLayers(lo); err == nil && len(l.Layers) > 0 {
		s.ConfigFallback = "using IT's configuration alone until it is fixed (tickets are kept and sent once it is)"
		l.Fingerprint = s.opts.LoadOptions(false).Fingerprint()
		return l
	}
	// The watcher starts from the broken files: it reports their next
	// change, not the breakage it was opened with.
	return &config.Loaded{Config: config.Default(), Fingerprint: s.opts.LoadOptions(false).Fingerprint()}
}

// UseConfig routes the tickets submitted from now on by l's connections:
// a long-lived process that reports tickets calls it on each config
// change, so a ticket never waits for a connection that was removed.
func (s *Service) UseConfig(l *config.Loaded) {
	if s.route != nil && l != nil {
		s.route.Store(l.Config)
	}
}

func (s *Service) routing() *config.Config {
	if s.route != nil {
		if c := s.route.Load(); c != nil {
			return c
		}
	}
	return s.Config
}

// ConfigProblem is the one-line problem to show a user while the config
// files are broken ("" when they are fine): the first problem, located.
func (s *Service) ConfigProblem() string { return ProblemLine(s.ConfigErr) }

// ProblemLine is a config error in one line: its first problem, located,
// and how many more there are ("" for nil).
func ProblemLine(err error) string {
	if err == nil {
		return ""
	}
	var ce *config.Error
	if errors.As(err, &ce) && len(ce.Problems) > 0 {
		msg := ce.Problems[0].String()
		if n := len(ce.Problems) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more)", n)
		}
		return msg
	}
	return err.Error()
}

// PurgeExpired deletes tickets delivered everywhere more than the
// retention ago (policy.retentionDays, default Retention). Long-running
// modes (the tray app, serve) call it periodically.
func (s *Service) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	return s.Store.Purge(ctx, now.Add(-s.Config.Policy.Retention(Retention)))
}

// Close closes the queue.
func (s *Service) Close() error { return s.Store.Close() }

// Draft is what the user filled in; Submit turns it into a Ticket.
type Draft struct {
	Summary     string
	Description string
	Category    string
	Priority    string // "" means medium
	User        connectors.User
	// SystemInfo is attached when set (the caller collects it, so the GUI
	// can show a preview of exactly what will be sent).
	SystemInfo   *diagnostics.SystemInfo
	SkillResults []diagnostics.SkillResult
	Session      *connectors.TroubleshootingSession
	Attachments  []connectors.Attachment
}

// Receipt says what Submit stored.
type Receipt struct {
	ID             string   `json:"id"`
	IdempotencyKey string   `json:"idempotencyKey"`
	Connections    []string `json:"connections"`
}

// DefaultUser is the logged-in OS user, used when the reporter gives no
// identity of their own.
func DefaultUser() connectors.User {
	u, err := user.Current()
	if err != nil {
		return connectors.User{}
	}
	return connectors.User{ID: u.Username, Name: u.Name}
}

// Build makes a validated Ticket from a draft.
func (s *Service) Build(d Draft) (*connectors.Ticket, error) {
	prio := connectors.PriorityMedium
	if d.Priority != "" {
		prio = connectors.Priority(strings.ToLower(strings.TrimSpace(d.Priority)))
	}
	t := &connectors.Ticket{
		Summary:        d.Summary,
		Description:    d.Description,
		Category:       d.Category,
		Priority:       prio,
		User:           d.User,
		SystemInfo:     d.SystemInfo,
		SkillResults:   d.SkillResults,
		Attachments:    d.Attachments,
		CreatedAt:      time.Now().UTC().Truncate(time.Millisecond),
		IdempotencyKey: connectors.NewKey(),
		Context: connectors.Context{
			AppVersion:             Version,
			SessionID:              s.sessionID,
			CorrelationID:          connectors.NewKey(),
			TroubleshootingSession: d.Session,
		},
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// Submit validates the draft and stores it, with one pending create per
// enabled connection. It returns only once the ticket is durable.
func (s *Service) Submit(ctx context.Context, d Draft) (Receipt, error) {
	t, err := s.Build(d)
	if err != nil {
		return Receipt{}, err
	}
	return s.Enqueue(ctx, t)
}

// Enqueue stores a built ticket.
func (s *Service) Enqueue(ctx context.Context, t *connectors.Ticket) (Receipt, error) {
	payload, err := json.Marshal(t)
	if err != nil {
		return Receipt{}, fmt.Errorf("encode ticket: %w", err)
	}
	r := Receipt{IdempotencyKey: t.IdempotencyKey, Connections: []string{}}
	var targets []queue.Target
	for _, c := range s.routing().Enabled() {
		targets = append(targets, queue.Target{Connection: c.Name, Action: queue.ActionCreate})
		r.Connections = append(r.Connections, c.Name)
	}
	if r.ID, err = s.Store.Enqueue(ctx, t.CreatedAt, payload, targets); err != nil {
		return Receipt{}, err
	}
	return r, nil
}

// Entry is a stored ticket as staff see it.
type Entry struct {
	ID         string
	CreatedAt  time.Time
	Ticket     *connectors.Ticket // nil when Err is set
	Err        error
	Deliveries []queue.Delivery
	// Remote is what the help desk's side last said of each delivered
	// create (a status sync or a webhook), by delivery id.
	Remote map[int64]RemoteView
	// Held says, by connection name, why the config in force holds back
	// deliveries with work left (HeldNotConfigured, HeldDisabled).
	Held map[string]string
}

func entry(it queue.Item) Entry {
	e := Entry{ID: it.ID, CreatedAt: it.CreatedAt, Err: it.Err, Deliveries: it.Deliveries}
	if it.Err == nil {
		var t connectors.Ticket
		if err := json.Unmarshal(it.Payload, &t); err != nil {
			e.Err = fmt.Errorf("ticket %s: payload is not a ticket: %w", it.ID, err)
		} else {
			e.Ticket = &t
		}
	}
	return e
}

// List returns stored tickets, oldest first, filtered by delivery state.
func (s *Service) List(ctx context.Context, state string) ([]Entry, error) {
	items, err := s.Store.List(ctx, queue.Filter{State: state})
	if err != nil {
		return nil, err
	}
	remote, err := s.remoteViews(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(items))
	for i, it := range items {
		out[i] = entry(it)
		out[i].Remote = remote.of(out[i].Deliveries)
		out[i].Held = s.heldByConfig(out[i].Deliveries)
	}
	return out, nil
}

// Get returns one ticket by id or unique id prefix.
func (s *Service) Get(ctx context.Context, id string) (Entry, error) {
	it, err := s.Store.Get(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	remote, err := s.remoteViews(ctx)
	if err != nil {
		return Entry{}, err
	}
	e := entry(it)
	e.Remote = remote.of(e.Deliveries)
	e.Held = s.heldByConfig(e.Deliveries)
	return e, nil
}

// WatchConfig reports every change of the config files the service was
// opened with (see config.Watch): a new valid config, or the error that
// refused a change while the last good config stays in force.
func (s *Service) WatchConfig(ctx context.Context, w config.WatchOptions, onChange func(*config.Loaded, error)) {
	if s.Loaded != nil && w.Since == ([32]byte{}) {
		w.Since = s.Loaded.Fingerprint
	}
	config.Watch(ctx, s.opts.LoadOptions(true), w, onChange)
}

// WithConfig returns a service sharing this one's queue with another
// config in force: what a live reload hands to a new courier.
func (s *Service) WithConfig(l *config.Loaded) *Service {
	next := *s
	next.Config, next.Loaded = l.Config, l
	return &next
}

// SaveMapping writes connection conn's mapping table kind (priority,
// category) to the user's config file, as `config mapping --set` does;
// the config watcher then brings it into force. It never migrates
// secrets: the write changes that one table and nothing else.
func (s *Service) SaveMapping(conn, kind string, table map[string]string) error {
	_, err := config.SetMapping(s.opts.LoadOptions(false), conn, kind, table)
	return err
}
