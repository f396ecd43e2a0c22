package webhooks

import (
	"sync"
	"time"
)

// ReplayWindow is how long a delivery id is remembered. Jira and Zendesk
// retry a failed delivery for hours, not days.
const ReplayWindow = 24 * time.Hour

// ReplayStore remembers the delivery ids of accepted deliveries. It is an
// interface so the app can persist it; MemoryReplay forgets everything on
// restart, so a delivery captured before a restart can be replayed once
// after it (Apply's "ignore what is older than stored" rule keeps that
// harmless). Implementations must be safe for concurrent use.
type ReplayStore interface {
	// Reserve records id as seen at now and reports true, or reports false
	// if id was reserved within the window before now (a replay).
	Reserve(id string, now time.Time) bool
	// Release forgets id, so that the sender's retry of a delivery we
	// failed to apply is not taken for a replay.
	Release(id string)
}

// MemoryReplay is a bounded in-memory ReplayStore. When it holds Max ids
// within the window it forgets the oldest first.
type MemoryReplay struct {
	window time.Duration
	max    int

	mu    sync.Mutex
	seen  map[string]time.Time
	order []entry // reservations in time order; may hold released ids
}

type entry struct {
	id string
	at time.Time
}

var _ ReplayStore = (*MemoryReplay)(nil)

// NewMemoryReplay returns a store remembering ids for window, at most max
// of them (a panic if either is not positive: a programmer error).
func NewMemoryReplay(window time.Duration, max int) *MemoryReplay {
	if window <= 0 || max <= 0 {
		panic("webhooks: NewMemoryReplay needs a positive window and size")
	}
	return &MemoryReplay{window: window, max: max, seen: make(map[string]time.Time)}
}

// Reserve implements ReplayStore.
func (m *MemoryReplay) Reserve(id string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	if at, ok := m.seen[id]; ok && now.Sub(at) < m.window {
		return false
	}
	for len(m.seen) >= m.max {
		m.pop()
	}
	m.seen[id] = now
	m.order = append(m.order, entry{id, now})
	return true
}

// Release implements ReplayStore.
func (m *MemoryReplay) Release(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, id)
}

// Len reports how many ids are remembered.
func (m *MemoryReplay) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

// expire drops the reservations older than the window.
func (m *MemoryReplay) expire(now time.Time) {
	for len(m.order) > 0 && now.Sub(m.order[0].at) >= m.window {
		m.pop()
	}
}

// pop drops the oldest reservation; a released or re-reserved id's stale
// entry leaves the map alone.
func (m *MemoryReplay) pop() {
	e := m.order[0]
	m.order[0] = entry{}
	m.order = m.order[1:]
	if at, ok := m.seen[e.id]; ok && at.Equal(e.at) {
		delete(m.seen, e.id)
	}
	if len(m.order) == 0 {
		m.order = nil // let the backing array go
	}
}
