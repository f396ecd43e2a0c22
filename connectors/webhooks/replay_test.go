package webhooks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

func TestMemoryReplayWindow(t *testing.T) {
	m := webhooks.NewMemoryReplay(time.Hour, 10)
	if !m.Reserve("a", now) {
		t.Fatal("first Reserve(a) = false")
	}
	if m.Reserve("a", now.Add(59*time.Minute)) {
		t.Error("Reserve(a) within the window = true, want false")
	}
	if !m.Reserve("a", now.Add(time.Hour)) {
		t.Error("Reserve(a) after the window = false, want true")
	}
	m.Release("a")
	if !m.Reserve("a", now.Add(time.Hour+time.Second)) {
		t.Error("Reserve(a) after Release = false, want true")
	}
}

// The store never holds more than its size; the oldest ids go first, and
// expired ones are dropped as time passes.
func TestMemoryReplayBounded(t *testing.T) {
	m := webhooks.NewMemoryReplay(time.Hour, 3)
	for i := range 5 {
		m.Reserve(fmt.Sprint(i), now.Add(time.Duration(i)*time.Second))
	}
	if m.Len() != 3 {
		t.Errorf("Len = %d, want 3", m.Len())
	}
	if !m.Reserve("0", now.Add(10*time.Second)) {
		t.Error("the oldest id was kept beyond the size")
	}
	if m.Reserve("4", now.Add(10*time.Second)) {
		t.Error("a recent id was forgotten")
	}
	m.Release("3")
	m.Reserve("x", now.Add(2*time.Hour))
	if m.Len() != 1 {
		t.Errorf("Len after expiry = %d, want 1", m.Len())
	}
}
