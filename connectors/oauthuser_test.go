package connectors

import (
	"slices"
	"strings"
	"testing"
)

func TestOAuthUserValidation(t *testing.T) {
	conn := func(typ string, cr Credentials) Connection {
		cr.Type = "oauth2_user"
		return Connection{Name: "c", Type: typ, BaseURL: "https://example.com", Credentials: cr}
	}
	for _, tc := range []struct {
		name string
		c    Connection
		want []string // fields with a problem
	}{
		{"jira needs only a client id", conn("jira", Credentials{ClientID: "id", ClientSecret: "env:S"}), nil},
		{"servicenow public client", conn("servicenow", Credentials{ClientID: "id"}), nil},
		{"no client id", conn("servicenow", Credentials{}), []string{"credentials.clientId"}},
		{"generic needs endpoints", conn("zendesk", Credentials{ClientID: "id"}), []string{"credentials.authUrl", "credentials.tokenUrl"}},
		{"generic with endpoints", conn("zendesk", Credentials{ClientID: "id", AuthURL: "https://z.example.com/oauth/authorizations/new", TokenURL: "https://z.example.com/oauth/tokens"}), nil},
		{"plain http endpoint", conn("jira", Credentials{ClientID: "id", TokenURL: "http://auth.example.com/token"}), []string{"credentials.tokenUrl"}},
		{"privileged port", conn("jira", Credentials{ClientID: "id", RedirectPort: 80}), []string{"credentials.redirectPort"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, fe := range tc.c.Validate() {
				if strings.HasPrefix(fe.Field, "credentials.") {
					got = append(got, fe.Field)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUserOAuthOf(t *testing.T) {
	u, err := UserOAuthOf(Connection{Name: "j", Type: "jira", BaseURL: "https://acme.atlassian.net",
		Credentials: Credentials{Type: "oauth2_user", ClientID: "id", Scopes: []string{"write:jira-work"}}})
	if err != nil || u.AuthURL != AtlassianAuthURL || u.TokenURL != AtlassianTokenURL || u.PKCE || !u.Atlassian ||
		!slices.Equal(u.Scopes, []string{"write:jira-work", "offline_access"}) || u.RedirectPort != DefaultRedirectPort {
		t.Errorf("jira: %+v, %v", u, err)
	}
	u, err = UserOAuthOf(Connection{Name: "s", Type: "servicenow", BaseURL: "https://acme.service-now.com/",
		Credentials: Credentials{Type: "oauth2_user", ClientID: "id", RedirectPort: 50000}})
	if err != nil || u.AuthURL != "https://acme.service-now.com/oauth_auth.do" || u.TokenURL != "https://acme.service-now.com/oauth_token.do" || !u.PKCE || u.RedirectPort != 50000 {
		t.Errorf("servicenow: %+v, %v", u, err)
	}
}
