// Package connectors defines the standard Ticketray ticket and the
// connectors that deliver it to ITSM systems.
package connectors

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/diagnostics"
)

// Priority is the internal priority; connections map it to vendor values.
type Priority string

// The priorities a ticket may carry.
const (
	PriorityLow      Priority = "low"
	PriorityMedium   Priority = "medium"
	PriorityHigh     Priority = "high"
	PriorityCritical Priority = "critical"
)

// Priorities lists the valid priorities, lowest first.
var Priorities = []Priority{PriorityLow, PriorityMedium, PriorityHigh, PriorityCritical}

// ParsePriority accepts a priority name in any case.
func ParsePriority(s string) (Priority, error) {
	p := Priority(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range Priorities {
		if p == v {
			return p, nil
		}
	}
	return "", fmt.Errorf("must be one of low, medium, high, critical")
}

// Limits for ticket fields. Summary fits ServiceNow's short_description
// (160), the tightest of the supported vendors; description fits Jira's
// 32,767-character rich-text limit once wrapped in ADF.
const (
	MaxSummary         = 160
	MaxDescription     = 30000
	MaxCategory        = 100
	MaxUserField       = 200
	MaxAttachments     = 5
	MaxAttachmentBytes = 10 << 20
	MaxTotalAttachment = 20 << 20
)

// Ticket is the standard ticket every connector maps from. Its JSON form
// uses the agreed camelCase names and is what the queue stores (encrypted).
type Ticket struct {
	Summary        string                    `json:"summary"`
	Description    string                    `json:"description,omitempty"`
	Category       string                    `json:"category,omitempty"`
	Priority       Priority                  `json:"priority"`
	User           User                      `json:"user"`
	SystemInfo     *diagnostics.SystemInfo   `json:"systemInfo,omitempty"`
	SkillResults   []diagnostics.SkillResult `json:"skillResults,omitempty"`
	Context        Context                   `json:"context"`
	Attachments    []Attachment              `json:"attachments,omitempty"`
	CreatedAt      time.Time                 `json:"createdAt"`
	IdempotencyKey string                    `json:"idempotencyKey"`
}

// User is the person reporting the issue.
type User struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Context describes the app session that produced the ticket.
type Context struct {
	AppVersion             string                  `json:"appVersion"`
	SessionID              string                  `json:"sessionId,omitempty"`
	CorrelationID          string                  `json:"correlationId,omitempty"`
	TroubleshootingSession *TroubleshootingSession `json:"troubleshootingSession,omitempty"`
}

// TroubleshootingSession summarises the skills run before the ticket.
type TroubleshootingSession struct {
	StartTime       time.Time `json:"startTime"`
	EndTime         time.Time `json:"endTime"`
	DurationMs      int64     `json:"durationMs"`
	StepsAttempted  int       `json:"stepsAttempted"`
	StepsSuccessful int       `json:"stepsSuccessful"`
}

// Attachment is a file the user attached. Data is base64 in JSON.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	SizeBytes   int64  `json:"sizeBytes"`
	Data        []byte `json:"data,omitempty"`
}

// NewKey returns a random 128-bit identifier in hex, used for idempotency
// keys and session ids.
func NewKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("connectors: crypto/rand failed: " + err.Error()) // the OS RNG never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// FieldError is one invalid field. Msg never repeats the value, which may
// be personal data.
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// ValidationError lists every invalid field of a ticket.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return "invalid ticket: " + strings.Join(parts, "; ")
}

// Field reports the message for a field, or "" when it is valid.
func (v ValidationError) Field(name string) string {
	for _, e := range v {
		if e.Field == name {
			return e.Msg
		}
	}
	return ""
}

// Validate checks the ticket and returns a ValidationError naming every bad
// field, or nil.
func (t *Ticket) Validate() error {
	var errs ValidationError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	maxLen := func(field, s string, n int) {
		if !utf8.ValidString(s) {
			add(field, "must be valid UTF-8")
		} else if c := utf8.RuneCountInString(s); c > n {
			add(field, "is %d characters; the limit is %d", c, n)
		}
	}

	if strings.TrimSpace(t.Summary) == "" {
		add("summary", "is required")
	} else {
		maxLen("summary", t.Summary, MaxSummary)
	}
	maxLen("description", t.Description, MaxDescription)
	maxLen("category", t.Category, MaxCategory)
	if _, err := ParsePriority(string(t.Priority)); err != nil || string(t.Priority) != strings.ToLower(string(t.Priority)) {
		add("priority", "%v", err)
	}
	maxLen("user.id", t.User.ID, MaxUserField)
	maxLen("user.name", t.User.Name, MaxUserField)
	if t.User.Email != "" {
		if a, err := mail.ParseAddress(t.User.Email); err != nil || a.Address != t.User.Email || len(t.User.Email) > 254 {
			add("user.email", "is not a valid email address (expected name@example.com)")
		}
	}
	if len(t.Attachments) > MaxAttachments {
		add("attachments", "has %d files; the limit is %d", len(t.Attachments), MaxAttachments)
	}
	var total int64
	for i, a := range t.Attachments {
		f := fmt.Sprintf("attachments[%d]", i)
		switch {
		case a.Filename == "" || a.Filename != filepath.Base(a.Filename) || strings.ContainsAny(a.Filename, `/\`):
			add(f+".filename", "must be a plain file name")
		case int64(len(a.Data)) > MaxAttachmentBytes:
			add(f, "is %d bytes; the limit is %d", len(a.Data), MaxAttachmentBytes)
		case a.SizeBytes != int64(len(a.Data)):
			add(f+".sizeBytes", "does not match the data length")
		}
		total += int64(len(a.Data))
	}
	if total > MaxTotalAttachment {
		add("attachments", "total %d bytes; the limit is %d", total, MaxTotalAttachment)
	}
	if t.CreatedAt.IsZero() {
		add("createdAt", "is required")
	}
	if t.IdempotencyKey == "" {
		add("idempotencyKey", "is required")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// IsValidation reports whether err is a ticket validation error.
func IsValidation(err error) bool {
	var v ValidationError
	return errors.As(err, &v)
}
