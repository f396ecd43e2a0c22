package rest

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
)

func TestRedact(t *testing.T) {
	inner := context.DeadlineExceeded
	err := Redact(&connectors.Error{Op: "create", Class: connectors.Retryable,
		Err: &url.Error{Op: "Get", URL: "https://u:p@x.service-now.com/api/now/table/sys_user?sysparm_query=email%3Dbob%40example.com", Err: inner}})
	text := err.Error()
	if strings.Contains(text, "bob") || strings.Contains(text, "u:p") || !strings.Contains(text, "https://x.service-now.com/api/now/table/sys_user") {
		t.Errorf("redacted error = %q", text)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("Redact lost the cause")
	}
	plain := errors.New("plain")
	if Redact(plain) != plain || Redact(nil) != nil {
		t.Error("Redact changed an error it has nothing to do with")
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", MaxMessage)
	got := Truncate(long, MaxMessage)
	if len(got) > MaxMessage+len("…") || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("Truncate cut %d bytes to %d: %q…", len(long), len(got), got[:10])
	}
	if Truncate("short", MaxMessage) != "short" {
		t.Error("Truncate changed a short message")
	}
}
