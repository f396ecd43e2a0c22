package connectors

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestDeliveryKey(t *testing.T) {
	const ticket = "0123456789abcdef0123456789abcdef"
	// Pinned: a retry after an unknown outcome finds the record by the key
	// an earlier version sent, so the derivation must never change. The
	// value is SHA-256 over "ticketray delivery v1\x00" and both inputs,
	// each after its length as 8 big-endian bytes, cut to 16 bytes.
	if got, want := DeliveryKey(ticket, "Production ServiceNow"), "4afec9e9c5b6310d5e0b2adb50921b6d"; got != want {
		t.Errorf("DeliveryKey = %s, want %s (the derivation changed)", got, want)
	}
	safe := regexp.MustCompile(`^[0-9a-f]{32}$`) // a Jira label, a correlation_id, an external id
	tests := []struct {
		name       string
		a, b       [2]string
		wantsEqual bool
	}{
		{"same delivery", [2]string{ticket, "Jira"}, [2]string{ticket, "Jira"}, true},
		{"another connection", [2]string{ticket, "Jira"}, [2]string{ticket, "JSM"}, false},
		{"another ticket", [2]string{ticket, "Jira"}, [2]string{"fedcba9876543210fedcba9876543210", "Jira"}, false},
		{"inputs do not run together", [2]string{"ab", "c"}, [2]string{"a", "bc"}, false},
		{"connection names are case-sensitive", [2]string{ticket, "jira"}, [2]string{ticket, "Jira"}, false},
		{"empty and odd names", [2]string{"", "a b\x00c"}, [2]string{"", "a b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := DeliveryKey(tt.a[0], tt.a[1]), DeliveryKey(tt.b[0], tt.b[1])
			if (ka == kb) != tt.wantsEqual {
				t.Errorf("DeliveryKey%q = %s, DeliveryKey%q = %s; equal = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.wantsEqual)
			}
			for _, k := range []string{ka, kb} {
				if !safe.MatchString(k) {
					t.Errorf("key %q is not 32 lowercase hex characters", k)
				}
			}
		})
	}
}

// testType is a connector type registered once for the registry tests,
// with vendor rules of its own.
const testType = "registry-test"

var registerTestType = sync.OnceFunc(func() {
	Register(testType, Driver{
		New: func(c Connection, d Deps) (Connector, error) { return nil, errors.New("not for building") },
		Validate: func(c Connection) []FieldError {
			return RequireOptions(c, "space")
		},
		CheckMapping: func(kind, value string) error {
			if kind == "priority" && value != "P1" && value != "P2" {
				return errors.New("must be P1 or P2")
			}
			return nil
		},
	})
})

func TestRegisterPanics(t *testing.T) {
	registerTestType()
	tests := []struct {
		name string
		typ  string
		d    Driver
	}{
		{"twice", testType, Driver{New: func(Connection, Deps) (Connector, error) { return nil, nil }}},
		{"without a factory", "registry-test-nil", Driver{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register %s did not panic", tt.name)
				}
			}()
			Register(tt.typ, tt.d)
		})
	}
	if slices.Contains(Registered(), "registry-test-nil") {
		t.Error("a driver without a factory was registered")
	}
}

func validConnection() Connection {
	return Connection{
		Name: "Test", Type: testType, BaseURL: "https://it.example",
		Credentials: Credentials{Type: "bearer", Token: "env:TOKEN"},
		Options:     map[string]json.RawMessage{"space": json.RawMessage(`"OPS"`)},
	}
}

func TestValidateWithRegistry(t *testing.T) {
	registerTestType()
	tests := []struct {
		name   string
		edit   func(c *Connection)
		fields []string // the FieldError fields, in order
		msg    string   // a substring of the first message
	}{
		{"valid", func(c *Connection) {}, nil, ""},
		{"type not registered", func(c *Connection) { c.Type = "remedy" }, []string{"type"}, "must be one of"},
		{"contract type not in this build", func(c *Connection) { c.Type = "bmc_helix" }, []string{"type"}, "not available in this build"},
		{"vendor option required", func(c *Connection) { delete(c.Options, "space") }, []string{"options.space"}, "is required for " + testType},
		{"vendor option blank", func(c *Connection) { c.Options["space"] = json.RawMessage(`"  "`) }, []string{"options.space"}, "is required"},
		{"rate limit a number", func(c *Connection) { c.Options[OptionRateLimit] = json.RawMessage(`2.5`) }, nil, ""},
		{"rate limit a numeric string", func(c *Connection) { c.Options[OptionRateLimit] = json.RawMessage(`"10"`) }, nil, ""},
		{"rate limit zero", func(c *Connection) { c.Options[OptionRateLimit] = json.RawMessage(`0`) }, []string{"options.rateLimitPerSecond"}, "positive number"},
		{"rate limit negative", func(c *Connection) { c.Options[OptionRateLimit] = json.RawMessage(`-1`) }, []string{"options.rateLimitPerSecond"}, "positive number"},
		{"rate limit not a number", func(c *Connection) { c.Options[OptionRateLimit] = json.RawMessage(`"fast"`) }, []string{"options.rateLimitPerSecond"}, "positive number"},
		{"rate limit infinite", func(c *Connection) { c.Options[OptionRateLimit] = json.RawMessage(`"Inf"`) }, []string{"options.rateLimitPerSecond"}, "positive number"},
		{"rate limit empty", func(c *Connection) { c.Options[OptionRateLimit] = json.RawMessage(`""`) }, []string{"options.rateLimitPerSecond"}, "positive number"},
		{"priority rows: keys and vendor values", func(c *Connection) {
			c.Mappings = map[string]map[string]string{"priority": {"High": "P1", "urgent": "P1", "low": "P9", "DEFAULT": "P2"}}
		}, []string{"mappings.priority.low", "mappings.priority.urgent"}, "must be P1 or P2"},
		{"unknown table", func(c *Connection) { c.Mappings = map[string]map[string]string{"colour": {"a": "b"}} }, []string{"mappings.colour"}, "unknown mapping table"},
		{"http to a remote host", func(c *Connection) { c.BaseURL = "http://it.example" }, []string{"baseUrl"}, "https"},
		{"http to loopback", func(c *Connection) { c.BaseURL = "http://127.0.0.1:8080" }, nil, ""},
		{"secret not echoed", func(c *Connection) {
			c.Credentials = Credentials{Type: "oauth2", ClientSecret: "hunter2-literal", TokenURL: "http://hunter2-literal.example/t"}
		}, []string{"credentials.clientId", "credentials.tokenUrl"}, "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConnection()
			tt.edit(&c)
			errs := c.Validate()
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Fatalf("Validate fields = %v, want %v (%v)", fields, tt.fields, errs)
			}
			for _, e := range errs {
				if strings.Contains(e.Msg, "hunter2") {
					t.Errorf("%s: message %q repeats a secret", e.Field, e.Msg)
				}
			}
			if tt.msg != "" && !strings.Contains(errs[0].Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", errs[0].Msg, tt.msg)
			}
		})
	}
}

func TestCheckMappingRow(t *testing.T) {
	registerTestType()
	tests := []struct {
		typ, kind, key, value string
		wantErr               string // "" for valid
	}{
		{testType, "priority", "critical", "P1", ""},
		{testType, "priority", "Default", "P2", ""},
		{testType, "priority", " HIGH ", "P1", ""},
		{testType, "priority", "urgent", "P1", "must be one of low, medium, high, critical"},
		{testType, "priority", "", "P1", "needs a key"},
		{testType, "priority", "low", "P3", "must be P1 or P2"},
		{testType, "category", "Network", "anything", ""},
		{testType, "status", "In Progress", "in_progress", ""},
		{testType, "severity", "low", "1", "unknown mapping table"},
		{"not-registered", "priority", "low", "whatever", ""}, // only the shared rules
		{"not-registered", "priority", "p5", "1", "must be one of"},
	}
	for _, tt := range tests {
		err := CheckMappingRow(tt.typ, tt.kind, tt.key, tt.value)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckMappingRow(%q, %q, %q, %q) = %v, want nil", tt.typ, tt.kind, tt.key, tt.value, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("CheckMappingRow(%q, %q, %q, %q) = %v, want an error containing %q", tt.typ, tt.kind, tt.key, tt.value, err, tt.wantErr)
		}
	}
}
