package queue

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// KEKSource supplies the key-encryption key (KEK) that wraps the queue's
// data keys. The queue keeps only the source's kind and its non-secret
// parameters (a salt, a keyring item name).
type KEKSource interface {
	// Kind names the source: "keyring" or "passphrase".
	Kind() string
	// New makes a KEK for the queue dbID and returns the parameters that
	// Open needs to get it back.
	New(ctx context.Context, dbID string) (kek []byte, params string, err error)
	// Open returns the KEK that New described with params.
	Open(ctx context.Context, dbID, params string) ([]byte, error)
}

// SecretStore is the part of an OS keyring the queue needs. Get reports a
// missing item with an error that wraps fs.ErrNotExist.
type SecretStore interface {
	Get(name string) ([]byte, error)
	Set(name string, value []byte) error
}

// KeyringKEK keeps a random 256-bit KEK in the OS keyring.
type KeyringKEK struct{ Store SecretStore }

// Kind implements KEKSource.
func (KeyringKEK) Kind() string { return "keyring" }

type keyringParams struct {
	Item string `json:"item"`
}

// New implements KEKSource.
func (k KeyringKEK) New(ctx context.Context, dbID string) ([]byte, string, error) {
	kek, err := randomBytes(32)
	if err != nil {
		return nil, "", err
	}
	item := "queue-kek-" + dbID + "-" + hex.EncodeToString(kek[:4]) // unique per KEK, so a re-wrap never overwrites the key in use
	if err := k.Store.Set(item, kek); err != nil {
		return nil, "", fmt.Errorf("store the queue key in the OS keyring: %w", err)
	}
	p, _ := json.Marshal(keyringParams{Item: item})
	return kek, string(p), nil
}

// Open implements KEKSource.
func (k KeyringKEK) Open(ctx context.Context, dbID, params string) ([]byte, error) {
	var p keyringParams
	if err := json.Unmarshal([]byte(params), &p); err != nil || p.Item == "" {
		return nil, fmt.Errorf("queue key parameters are unreadable")
	}
	kek, err := k.Store.Get(p.Item)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: the OS keyring has no item %q for this queue (created by another user or machine, or the keyring was reset)", ErrWrongKey, p.Item)
	}
	if err != nil {
		return nil, fmt.Errorf("read the queue key from the OS keyring: %w", err)
	}
	if len(kek) != 32 {
		return nil, fmt.Errorf("%w: keyring item %q does not hold a 256-bit key", ErrWrongKey, p.Item)
	}
	return kek, nil
}

// PassphraseKEK derives the KEK from a passphrase with Argon2id and a
// per-queue random salt. The cost parameters are stored with the salt, so
// they can be raised later without breaking existing queues.
type PassphraseKEK struct {
	Passphrase []byte
	// Cost; zero values take the defaults (3 passes, 64 MiB, 2 threads).
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// Kind implements KEKSource.
func (PassphraseKEK) Kind() string { return "passphrase" }

type passphraseParams struct {
	KDF       string `json:"kdf"`
	Salt      string `json:"salt"`
	Time      uint32 `json:"t"`
	MemoryKiB uint32 `json:"m"`
	Threads   uint8  `json:"p"`
}

// New implements KEKSource.
func (k PassphraseKEK) New(ctx context.Context, dbID string) ([]byte, string, error) {
	if len(k.Passphrase) == 0 {
		return nil, "", fmt.Errorf("the passphrase is empty")
	}
	salt, err := randomBytes(16)
	if err != nil {
		return nil, "", err
	}
	p := passphraseParams{KDF: "argon2id", Salt: base64.StdEncoding.EncodeToString(salt), Time: k.Time, MemoryKiB: k.MemoryKiB, Threads: k.Threads}
	if p.Time == 0 {
		p.Time = 3
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 64 << 10
	}
	if p.Threads == 0 {
		p.Threads = 2
	}
	if !p.costOK() {
		return nil, "", fmt.Errorf("the passphrase cost is out of range (1-16 passes, 8 MiB-1 GiB)")
	}
	raw, _ := json.Marshal(p)
	return argon2.IDKey(k.Passphrase, salt, p.Time, p.MemoryKiB, p.Threads, 32), string(raw), nil
}

// Open implements KEKSource.
func (k PassphraseKEK) Open(ctx context.Context, dbID, params string) ([]byte, error) {
	var p passphraseParams
	if err := json.Unmarshal([]byte(params), &p); err != nil || p.KDF != "argon2id" {
		return nil, fmt.Errorf("queue key parameters are unreadable")
	}
	salt, err := base64.StdEncoding.DecodeString(p.Salt)
	// Bound the cost so a tampered meta row cannot make Open eat the machine.
	if err != nil || len(salt) < 16 || !p.costOK() {
		return nil, fmt.Errorf("queue key parameters are out of range")
	}
	return argon2.IDKey(k.Passphrase, salt, p.Time, p.MemoryKiB, p.Threads, 32), nil
}

// costOK bounds the cost; New must never store one that Open refuses.
func (p passphraseParams) costOK() bool {
	return p.Time != 0 && p.Time <= 16 && p.MemoryKiB >= 8<<10 && p.MemoryKiB <= 1<<20 && p.Threads != 0
}

// keyset holds the unwrapped data keys (DEKs). The highest id is active:
// new payloads are sealed with it.
type keyset struct {
	mu     sync.RWMutex
	dbID   string
	kek    cipher.AEAD
	deks   map[int64]cipher.AEAD
	raw    map[int64][]byte // kept to re-wrap under a new KEK
	active int64
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// seal encrypts plain with aead. The nonce is prepended; aad binds the
// ciphertext to its place so it cannot be moved to another row or queue.
func seal(aead cipher.AEAD, plain, aad []byte) ([]byte, error) {
	nonce, err := randomBytes(aead.NonceSize())
	if err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, aad), nil
}

func unseal(aead cipher.AEAD, blob, aad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(blob) < n+aead.Overhead() {
		return nil, ErrTampered
	}
	plain, err := aead.Open(nil, blob[:n], blob[n:], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

func (k *keyset) rowAAD(table, rowKey string, dekID int64) []byte {
	return []byte("ticketray/v1|" + k.dbID + "|" + table + "|" + rowKey + "|dek" + strconv.FormatInt(dekID, 10))
}

func (k *keyset) dekAAD(dekID int64) []byte {
	return []byte("ticketray/v1|" + k.dbID + "|dek|" + strconv.FormatInt(dekID, 10))
}

// seal encrypts a row's payload with the active DEK.
func (k *keyset) seal(table, rowKey string, plain []byte) (int64, []byte, error) {
	k.mu.RLock()
	id, aead := k.active, k.deks[k.active]
	k.mu.RUnlock()
	blob, err := seal(aead, plain, k.rowAAD(table, rowKey, id))
	return id, blob, err
}

// loadKeys gets the KEK and unwraps every DEK, or creates both for a new
// queue. A KEK that cannot unwrap the DEKs is ErrWrongKey.
func (s *Store) loadKeys(ctx context.Context, src KEKSource) error {
	ks, err := s.unlockKeys(ctx, src)
	if err != nil {
		return err
	}
	if ks == nil {
		// The keys made here are used as they are: deriving the KEK again
		// (Argon2id for a passphrase) would double the cost of the first
		// open and its peak memory.
		if ks, err = s.initKeys(ctx, src); err != nil {
			return err
		}
	}
	if ks == nil {
		// Another process created the keys first.
		if ks, err = s.unlockKeys(ctx, src); err != nil {
			return err
		}
		if ks == nil {
			return fmt.Errorf("queue: open %s: the queue has no identity after creating its keys", s.path)
		}
	}
	s.keys = ks
	return nil
}

// unlockKeys gets the KEK and unwraps every DEK, without writing: nil
// when the queue has no keys yet.
func (s *Store) unlockKeys(ctx context.Context, src KEKSource) (*keyset, error) {
	meta, err := s.meta(ctx, s.db)
	if err != nil {
		return nil, s.wrap("read keys", err)
	}
	if meta["db_id"] == "" {
		return nil, nil
	}
	if kind := meta["kek_kind"]; kind != src.Kind() {
		return nil, fmt.Errorf("queue: open %s: %w: %s", s.path, ErrWrongKey, kindHint(kind))
	}
	kek, err := src.Open(ctx, meta["db_id"], meta["kek_params"])
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", s.path, err)
	}
	ks, err := newKeyset(meta["db_id"], kek)
	if err != nil {
		return nil, err
	}
	if err := s.refreshKeys(ctx, ks); err != nil {
		return nil, err
	}
	return ks, nil
}

func kindHint(kind string) string {
	if kind == "passphrase" {
		return "this queue is encrypted with a passphrase; set OFFLINE_QUEUE_ENCRYPTION_KEY to it"
	}
	return "this queue's key is in the OS keyring; unset OFFLINE_QUEUE_ENCRYPTION_KEY (or re-wrap with 'ticketray keys rotate --kek passphrase' first)"
}

func newKeyset(dbID string, kek []byte) (*keyset, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, fmt.Errorf("queue: key: %w", err)
	}
	return &keyset{dbID: dbID, kek: aead, deks: map[int64]cipher.AEAD{}, raw: map[int64][]byte{}}, nil
}

// initKeys creates the queue's identity, KEK and first DEK, and returns
// them; nil when another process created them first. It runs in an
// immediate transaction so two processes creating the same file agree.
func (s *Store) initKeys(ctx context.Context, src KEKSource) (*keyset, error) {
	var made *keyset
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		made = nil
		meta, err := s.meta(ctx, tx)
		if err != nil || meta["db_id"] != "" {
			return err
		}
		raw, err := randomBytes(16)
		if err != nil {
			return err
		}
		dbID := hex.EncodeToString(raw)
		kek, params, err := src.New(ctx, dbID)
		if err != nil {
			return err
		}
		ks, err := newKeyset(dbID, kek)
		if err != nil {
			return err
		}
		for k, v := range map[string]string{"db_id": dbID, "kek_kind": src.Kind(), "kek_params": params, "created_at": strconv.FormatInt(ms(s.now()), 10)} {
			if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", k, v); err != nil {
				return err
			}
		}
		if _, err = ks.addDEK(ctx, tx, s.now()); err != nil {
			return err
		}
		made = ks
		return nil
	})
	if err != nil {
		return nil, s.wrap("create keys", err)
	}
	return made, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) meta(ctx context.Context, q querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM meta")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// addDEK makes a new random DEK, stores it wrapped, and makes it active.
func (k *keyset) addDEK(ctx context.Context, tx *sql.Tx, now time.Time) (int64, error) {
	dek, err := randomBytes(32)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM deks").Scan(&id); err != nil {
		return 0, err
	}
	wrapped, err := seal(k.kek, dek, k.dekAAD(id))
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO deks (id, wrapped, created_at) VALUES (?, ?, ?)", id, wrapped, now.UnixMilli()); err != nil {
		return 0, err
	}
	aead, err := newAEAD(dek)
	if err != nil {
		return 0, err
	}
	k.mu.Lock()
	k.deks[id], k.raw[id], k.active = aead, dek, id
	k.mu.Unlock()
	return id, nil
}

// refreshKeys re-reads the DEK table, so a process sees keys that another
// process (a `keys rotate`) added or retired.
func (s *Store) refreshKeys(ctx context.Context, ks *keyset) error {
	rows, err := s.db.QueryContext(ctx, "SELECT id, wrapped FROM deks ORDER BY id")
	if err != nil {
		return s.wrap("read keys", err)
	}
	defer rows.Close()
	deks, raws := map[int64]cipher.AEAD{}, map[int64][]byte{}
	var active int64
	for rows.Next() {
		var id int64
		var wrapped []byte
		if err := rows.Scan(&id, &wrapped); err != nil {
			return s.wrap("read keys", err)
		}
		ks.mu.RLock()
		aead, ok := ks.deks[id]
		dek := ks.raw[id]
		kek := ks.kek
		ks.mu.RUnlock()
		if !ok {
			var err error
			if dek, err = unseal(kek, wrapped, ks.dekAAD(id)); err != nil {
				return fmt.Errorf("queue: open %s: %w", s.path, ErrWrongKey)
			}
			if aead, err = newAEAD(dek); err != nil {
				return err
			}
		}
		deks[id], raws[id], active = aead, dek, id
	}
	if err := rows.Err(); err != nil {
		return s.wrap("read keys", err)
	}
	if active == 0 {
		return fmt.Errorf("queue: open %s: %w: the queue has no data key", s.path, ErrWrongKey)
	}
	ks.mu.Lock()
	// Keys a rotation has since retired stay known: a reader may still hold
	// rows sealed by them that it read before the rotation re-sealed them.
	// (An id above active was never committed: it is not kept.)
	for id, aead := range ks.deks {
		if _, ok := deks[id]; !ok && id < active {
			deks[id], raws[id] = aead, ks.raw[id]
		}
	}
	ks.deks, ks.raw, ks.active = deks, raws, active
	ks.mu.Unlock()
	return nil
}

// ensureActive makes the cached active DEK match the file's, inside a
// write transaction, so a rotation by another process is never undercut.
func (s *Store) ensureActive(ctx context.Context, tx *sql.Tx) error {
	var newest int64
	if err := s.queryRow(ctx, tx, "SELECT COALESCE(MAX(id), 0) FROM deks").Scan(&newest); err != nil {
		return err
	}
	s.keys.mu.RLock()
	stale := newest != s.keys.active
	s.keys.mu.RUnlock()
	if !stale {
		return nil
	}
	return s.refreshKeys(ctx, s.keys)
}

// open decrypts a row's payload, reloading the keys once if the row uses a
// DEK this process has not seen.
func (s *Store) open(ctx context.Context, table, rowKey string, dekID int64, blob []byte) ([]byte, error) {
	s.keys.mu.RLock()
	aead, ok := s.keys.deks[dekID]
	s.keys.mu.RUnlock()
	if !ok {
		if err := s.refreshKeys(ctx, s.keys); err != nil {
			return nil, err
		}
		s.keys.mu.RLock()
		aead, ok = s.keys.deks[dekID]
		s.keys.mu.RUnlock()
		if !ok {
			return nil, ErrTampered
		}
	}
	return unseal(aead, blob, s.keys.rowAAD(table, rowKey, dekID))
}
