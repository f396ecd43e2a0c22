package connectors

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Types lists the connector types the config contract accepts.
var Types = []string{"servicenow", "jira", "jsm", "zendesk", "freshservice", "salesforce"}

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
}

// IsEnabled reports whether the connection takes deliveries (default true).
func (c *Connection) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// Validate checks one connection and returns every problem found. Messages
// name the field and never repeat secret values.
func (c *Connection) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(c.Name) == "" {
		add("name", "is required")
	}
	if !contains(Types, c.Type) {
		add("type", "must be one of %s", strings.Join(Types, ", "))
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
	for kind := range c.Mappings {
		if kind != "priority" && kind != "category" && kind != "status" {
			add("mappings."+kind, "unknown mapping table (expected priority, category or status)")
		}
	}
	cr := c.Credentials
	need := func(field, v string) {
		if v == "" {
			add("credentials."+field, "is required for %s credentials", cr.Type)
		}
	}
	switch cr.Type {
	case "basic":
		need("username", cr.Username)
		need("password", cr.Password)
	case "api_token":
		need("username", cr.Username)
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
			add("credentials.grant", "must be client_credentials or refresh_token")
		}
		if cr.TokenURL != "" {
			if err := CheckBaseURL(cr.TokenURL); err != nil {
				add("credentials.tokenUrl", "%v", err)
			}
		}
	default:
		add("credentials.type", "must be one of basic, api_token, bearer, oauth2")
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
