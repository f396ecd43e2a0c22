package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

func TestTroubleOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Trouble
	}{
		{"nil", nil, TroubleNone},
		{"queue disk full", fmt.Errorf("submit: %w", queue.ErrDiskFull), TroubleDiskFull},
		{"ENOSPC", fmt.Errorf("write queue.db: %w", syscall.ENOSPC), TroubleDiskFull},
		{"sqlite full", errors.New("database or disk is full (13)"), TroubleDiskFull},
		{"read-only queue", fmt.Errorf("submit: %w", queue.ErrReadOnly), TroubleStorage},
		{"locked", errors.New("submit: database is locked (5) (SQLITE_BUSY)"), TroubleStorage},
		{"corrupt", &queue.CorruptError{Path: "q.db", MovedTo: "q.db.bad", Err: errors.New("bad page")}, TroubleStorage},
		{"dial", errors.New(`create: Post "http://127.0.0.1:9/api/now/table/incident": dial tcp 127.0.0.1:9: connect: connection refused`), TroubleOffline},
		{"dial timeout is offline", errors.New("create: dial tcp 10.0.0.1:443: i/o timeout"), TroubleOffline},
		{"dns", errors.New("lookup acme.service-now.com: no such host"), TroubleOffline},
		{"offline class", &connectors.Error{Op: "create", Class: connectors.Offline, Err: errors.New("tls handshake failed")}, TroubleOffline},
		{"deadline", fmt.Errorf("create: %w", context.DeadlineExceeded), TroubleTimeout},
		{"401", &connectors.Error{Op: "create", Status: 401}, TroubleCredentials},
		{"403", &connectors.Error{Op: "create", Status: 403, Message: "ACL denied"}, TroubleCredentials},
		{"429", &connectors.Error{Op: "create", Status: 429}, TroubleBusy},
		{"salesforce limit", &connectors.Error{Op: "create", Status: 403, Throttled: true}, TroubleBusy},
		{"503", &connectors.Error{Op: "create", Status: 503}, TroubleServer},
		{"504", &connectors.Error{Op: "create", Status: 504}, TroubleTimeout},
		{"400", &connectors.Error{Op: "create", Status: 400, Message: "Invalid caller_id"}, TroubleRefused},
		{"sign-in", fmt.Errorf("connection %q: %w: nobody has signed in", "jira", connectors.ErrSignInRequired), TroubleSignIn},
		{"misconfigured", errors.New("connection misconfigured: baseUrl: not a URL"), TroubleConfig},
		{"unknown", errors.New("something odd"), TroubleOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TroubleOf(tt.err); got != tt.want {
				t.Errorf("TroubleOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// A delivery's last error is stored as text: the same troubles are found
// in what the connectors write.
func TestTroubleOfText(t *testing.T) {
	tests := []struct {
		text string
		want Trouble
	}{
		{"", TroubleNone},
		{"  ", TroubleNone},
		{(&connectors.Error{Op: "create", Status: 401, Message: "User Not Authenticated"}).Error(), TroubleCredentials},
		{(&connectors.Error{Op: "create", Status: 429}).Error(), TroubleBusy},
		{(&connectors.Error{Op: "create", Status: 502}).Error(), TroubleServer},
		{(&connectors.Error{Op: "create", Status: 404}).Error(), TroubleRefused},
		{"503 Service Unavailable", TroubleServer},
		{"400 Bad Request: Invalid caller_id", TroubleRefused},
		{"circuit breaker open", TroubleServer},
		{`create: Post "https://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, TroubleTimeout},
		{"create: Post \"http://127.0.0.1:9/\": dial tcp 127.0.0.1:9: connect: connection refused", TroubleOffline},
		{"sign-in required: run 'ticketray connections login jira'", TroubleSignIn},
		{"connection misconfigured: secret not found in keyring", TroubleConfig},
		{"the disk is full", TroubleDiskFull},
		{"thereof nothing", TroubleOther},
	}
	for _, tt := range tests {
		if got := TroubleOfText(tt.text); got != tt.want {
			t.Errorf("TroubleOfText(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// Every trouble has a sentence, none of them leaks engineering words, and
// the ones the user can act on say what to do.
func TestTroubleSentences(t *testing.T) {
	if s := TroubleNone.Sentence(); s != "" {
		t.Errorf("TroubleNone.Sentence() = %q, want empty", s)
	}
	must := map[Trouble]string{
		TroubleDiskFull:    "Free some space and try again",
		TroubleStorage:     "tell IT",
		TroubleCredentials: "tell IT",
		TroubleConfig:      "tell IT",
		TroubleSignIn:      "Sign in",
		TroubleOffline:     "sent automatically",
		TroubleOther:       "tell IT",
	}
	for tr := TroubleOffline; tr <= TroubleOther; tr++ {
		s := tr.Sentence()
		if s == "" || !strings.HasSuffix(s, ".") {
			t.Errorf("trouble %d: sentence %q, want a full sentence", tr, s)
		}
		for _, bad := range []string{"HTTP", "dial", "tcp", "429", "401", "5xx", "idempotency", "error"} {
			if strings.Contains(s, bad) {
				t.Errorf("trouble %d: sentence %q says %q", tr, s, bad)
			}
		}
		if want, ok := must[tr]; ok && !strings.Contains(s, want) {
			t.Errorf("trouble %d: sentence %q, want it to say %q", tr, s, want)
		}
	}
	if got := UserMessage(fmt.Errorf("submit: %w", queue.ErrDiskFull)); got != TroubleDiskFull.Sentence() {
		t.Errorf("UserMessage(disk full) = %q", got)
	}
}
