package queue

import (
	"context"
	"sync/atomic"
	"testing"
)

// countingKEK counts the key derivations behind a PassphraseKEK.
type countingKEK struct {
	PassphraseKEK
	news, opens *atomic.Int32
}

func (k countingKEK) New(ctx context.Context, dbID string) ([]byte, string, error) {
	k.news.Add(1)
	return k.PassphraseKEK.New(ctx, dbID)
}

func (k countingKEK) Open(ctx context.Context, dbID, params string) ([]byte, error) {
	k.opens.Add(1)
	return k.PassphraseKEK.Open(ctx, dbID, params)
}

// TestNewQueueDerivesKeyOnce: creating a passphrase-keyed queue derives the
// key once (Argon2id sets the peak memory of a start), and reopening it
// derives it once more, not twice.
func TestNewQueueDerivesKeyOnce(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	k := countingKEK{PassphraseKEK: fastKEK("pw"), news: new(atomic.Int32), opens: new(atomic.Int32)}
	s := openStore(t, path, Options{KEK: k})
	if _, err := s.Enqueue(ctx, t0, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if n, o := k.news.Load(), k.opens.Load(); n != 1 || o != 0 {
		t.Errorf("creating the queue derived the key %d times (New) + %d (Open), want 1 + 0", n, o)
	}
	s = openStore(t, path, Options{KEK: k})
	s.Close()
	if n, o := k.news.Load(), k.opens.Load(); n != 1 || o != 1 {
		t.Errorf("reopening derived the key %d times (Open), want 1", o)
	}
}
