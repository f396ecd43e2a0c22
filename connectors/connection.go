package connectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Types lists the connector types the config contract (and its JSON
// schema) names. Which of them this build can deliver to is the registry's
// business: Validate accepts only Registered types.
var Types = []string{"servicenow", "jira", "jsm", "zendesk", "freshservice", "salesforce", "bmc_helix"}

// Connection is one configured ITSM endpoint (config contract v1).
type Connection struct {
	Name            string                       `json:"name"`
	Type            string                       `json:"type"`
	BaseURL         string                       `json:"baseUrl"`
	Credentials     Credentials                  `json:"credentials"`
	Enabled         *bool                        `json:"enabled,omitempty"`
	DefaultPriority string                       `json:"defaultPriority,omitempty"`
	DefaultCategory string                       `json:"defaultCategory,omitempty"`
	TimeoutMs       int                          `json:"timeoutMs,omitempty"`
	MaxRetries      *int                         `json:"maxRetries,omitempty"`
	Mappings        map[string]map[string]string `json:"mappings,omitempty"`
	Options         map[string]json.RawMessage   `json:"options,omitempty"`
	// WebhookSecret is the secret the help desk signs its status webhooks
	// with (serve --listen): env:NAME or keyring:NAME. Empty: the
	// connection refuses webhooks.
	WebhookSecret string `json:"webhookSecret,omitempty"`
}

// Credentials hold a secret reference per field: a literal, env:NAME or
// keyring:NAME. They are resolved only when a request is made.
type Credentials struct {
	Type         string   `json:"type"`
	Username     string   `json:"username,omitempty"`
	Password     string   `json:"password,omitempty"`
	APIToken     string   `json:"apiToken,omitempty"`
	Token        string   `json:"token,omitempty"`
	ClientID     string   `json:"clientId,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	TokenURL     string   `json:"tokenUrl,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Grant        string   `json:"grant,omitempty"`
	RefreshToken string   `json:"refreshToken,omitempty"`
	// AuthURL and RedirectPort are oauth2_user's: the authorization
	// endpoint (Jira, JSM and ServiceNow have defaults) and the loopback
	// port of the redirect URI (default DefaultRedirectPort).
	AuthURL      string `json:"authUrl,omitempty"`
	RedirectPort int    `json:"redirectPort,omitempty"`
}

// IsEnabled reports whether the connection takes deliveries (default true).
func (c *Connection) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// Validate checks one connection and returns every problem found: the
// shared rules, then the rules its type's Driver declares. Field is a path
// relative to the connection ("baseUrl", "options.projectKey",
// "mappings.priority.high"); messages never repeat secret values.
func (c *Connection) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(c.Name) == "" {
		add("name", "is required")
	}
	drv, registered := lookup(c.Type)
	switch {
	case registered:
	case contains(Types, c.Type):
		add("type", "%q is not available in this build: must be one of %s", c.Type, strings.Join(Registered(), ", "))
	default:
		add("type", "must be one of %s", strings.Join(Registered(), ", "))
	}
	if err := CheckBaseURL(c.BaseURL); err != nil {
		add("baseUrl", "%v", err)
	}
	if c.DefaultPriority != "" {
		if _, err := ParsePriority(c.DefaultPriority); err != nil {
			add("defaultPriority", "%v", err)
		}
	}
	if c.TimeoutMs < 0 || c.TimeoutMs > 600000 {
		add("timeoutMs", "must be between 1 and 600000")
	}
	if c.MaxRetries != nil && (*c.MaxRetries < 0 || *c.MaxRetries > 100) {
		add("maxRetries", "must be between 0 and 100")
	}
	if _, err := c.RateLimitPerSecond(); err != nil {
		add("options."+OptionRateLimit, "%v", err)
	}
	errs = append(errs, c.mappingErrors()...)
	errs = append(errs, c.Credentials.validate(drv.TokenOnly)...)
	errs = append(errs, c.oauthUserErrors()...)
	errs = append(errs, c.webhookSecretErrors()...)
	if registered && drv.Validate != nil {
		errs = append(errs, drv.Validate(*c)...)
	}
	return errs
}

// webhookSecretErrors checks the form of webhookSecret: a reference must
// name something. Whether a literal is allowed depends on the file it is
// in (app/config refuses one in a managed file).
func (c *Connection) webhookSecretErrors() []FieldError {
	for prefix, what := range map[string]string{"env:": "environment variable", "keyring:": "keyring item"} {
		if name, ok := strings.CutPrefix(c.WebhookSecret, prefix); ok && strings.TrimSpace(name) == "" {
			return []FieldError{{"webhookSecret", fmt.Sprintf("%s names no %s", prefix, what)}}
		}
	}
	return nil
}

// mappingErrors checks every row of every mapping table with
// CheckMappingRow, in a stable order.
func (c *Connection) mappingErrors() []FieldError {
	var errs []FieldError
	for _, kind := range slices.Sorted(maps.Keys(c.Mappings)) {
		if !contains(MappingKinds, kind) {
			errs = append(errs, FieldError{"mappings." + kind, "unknown mapping table (expected priority, category or status)"})
			continue
		}
		t := c.Mappings[kind]
		for _, key := range slices.Sorted(maps.Keys(t)) {
			if err := CheckMappingRow(c.Type, kind, key, t[key]); err != nil {
				errs = append(errs, FieldError{"mappings." + kind + "." + key, err.Error()})
			}
		}
	}
	return errs
}

// validate checks the fields each credentials type needs; with tokenOnly
// an api_token needs no username (the vendor authenticates by the token
// alone).
func (cr *Credentials) validate(tokenOnly bool) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{"credentials." + field, fmt.Sprintf(format, args...)})
	}
	need := func(field, v string) {
		if v == "" {
			add(field, "is required for %s credentials", cr.Type)
		}
	}
	switch cr.Type {
	case "basic":
		need("username", cr.Username)
		need("password", cr.Password)
	case "api_token":
		if !tokenOnly {
			need("username", cr.Username)
		}
		need("apiToken", cr.APIToken)
	case "bearer":
		need("token", cr.Token)
	case "oauth2":
		need("clientId", cr.ClientID)
		need("tokenUrl", cr.TokenURL)
		switch cr.Grant {
		case "", "client_credentials":
			need("clientSecret", cr.ClientSecret)
		case "refresh_token":
			need("refreshToken", cr.RefreshToken)
		default:
			add("grant", "must be client_credentials or refresh_token")
		}
		if cr.TokenURL != "" {
			if err := CheckBaseURL(cr.TokenURL); err != nil {
				add("tokenUrl", "%v", err)
			}
		}
	case "oauth2_user":
		need("clientId", cr.ClientID)
		for _, f := range [][2]string{{"authUrl", cr.AuthURL}, {"tokenUrl", cr.TokenURL}} {
			if f[1] != "" {
				if err := CheckBaseURL(f[1]); err != nil {
					add(f[0], "%v", err)
				}
			}
		}
		if cr.RedirectPort != 0 && (cr.RedirectPort < 1024 || cr.RedirectPort > 65535) {
			add("redirectPort", "must be between 1024 and 65535 (absent: %d)", DefaultRedirectPort)
		}
	default:
		add("type", "must be one of basic, api_token, bearer, oauth2, oauth2_user")
	}
	return errs
}

// OptionRateLimit is the option that bounds a connection's calls per
// second (the Guard's RatePerSecond).
const OptionRateLimit = "rateLimitPerSecond"

// RateLimitPerSecond reads options.rateLimitPerSecond (a JSON number, or a
// string holding one): 0 when it is absent, an error unless it is a
// positive finite number.
func (c *Connection) RateLimitPerSecond() (float64, error) {
	if _, ok := c.Options[OptionRateLimit]; !ok {
		return 0, nil
	}
	r, err := strconv.ParseFloat(c.Option(OptionRateLimit, ""), 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return 0, errors.New("must be a positive number of calls per second")
	}
	return r, nil
}

// RequireOptions is a Driver.Validate helper: each named option must be set
// to a non-empty value.
func RequireOptions(c Connection, names ...string) []FieldError {
	var errs []FieldError
	for _, n := range names {
		if strings.TrimSpace(c.Option(n, "")) == "" {
			errs = append(errs, FieldError{"options." + n, fmt.Sprintf("is required for %s connections", c.Type)})
		}
	}
	return errs
}

// CheckBaseURL enforces the TLS policy: https everywhere, plain http only
// for loopback hosts.
func CheckBaseURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("is not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("must use https (http is allowed only for loopback hosts)")
	default:
		return fmt.Errorf("must use https")
	}
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
