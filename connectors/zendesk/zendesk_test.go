package zendesk_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/zendesk"
	"github.com/ticketray/ticketray/connectors/zendesk/zdfake"
)

const ticketsPath = "/api/v2/tickets"

// Error bodies in Zendesk's shapes. 400, 403, 404 and 500 are captured
// responses (zdfake/testdata/samples); 401 is what clients report for a
// bad API token; 429 bodies are text/plain; 409 is Zendesk's shape with
// the test's own wording (no capture found).
var vendorErrors = map[int]conformance.VendorError{
	400: {
		Body:    mustRead("zdfake/testdata/samples/amplabs-missing-parameter.json"),
		Message: "ParameterMissing: Parameter brands is required",
	},
	401: {
		Body:    `{"error":"Couldn't authenticate you"}`,
		Message: "Couldn't authenticate you",
	},
	403: {
		Body:    mustRead("zdfake/testdata/samples/amplabs-forbidden.json"),
		Message: "Forbidden: You do not have access to this page. Please contact the account owner of this help desk for further help.",
	},
	404: {
		Body:    mustRead("zdfake/testdata/samples/amplabs-resource-not-found.json"),
		Message: "InvalidEndpoint: Not found",
	},
	409: {
		Body:    `{"error":"UpdateConflict","description":"Unable to update the ticket due to a conflict; please retry"}`,
		Message: "UpdateConflict: Unable to update the ticket due to a conflict; please retry",
	},
	422: {
		Body:    mustRead("zdfake/testdata/samples/amplabs-record-validation.json"),
		Message: "RecordInvalid: Record validation errors: Name: cannot be blank; Email is not properly formatted; Subdomain: is invalid (three or more letters and numbers only, without spaces)",
	},
	429: {
		Body:    "Too Many Requests\n",
		Message: "Too Many Requests",
	},
	500: {
		Body:    mustRead("zdfake/testdata/samples/amplabs-server-error.json"),
		Message: "Internal Server Error",
	},
}

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestConformance(t *testing.T) {
	bearerErrors := maps.Clone(vendorErrors)
	bearerErrors[401] = conformance.VendorError{
		Body:    `{"error":"invalid_token","error_description":"The access token provided is expired, revoked, malformed or invalid for other reasons."}`,
		Message: "invalid_token: The access token provided is expired",
	}
	for _, cred := range []struct {
		name   string
		cred   connectors.Credentials
		errors map[int]conformance.VendorError
	}{
		{"api_token", tokenCredentials(), vendorErrors},
		{"bearer", connectors.Credentials{Type: "bearer", Token: zdfake.OAuthToken}, bearerErrors},
	} {
		t.Run(cred.name, func(t *testing.T) {
			conformance.Run(t, func(t *testing.T) conformance.Target {
				f := startFake(t)
				c := connection(f.URL())
				c.Credentials = cred.cred
				return conformance.Target{
					Connection:   c,
					Faults:       f.Faults,
					CreateMethod: http.MethodPost,
					CreatePath:   ticketsPath,
					Count:        f.Count,
					Errors:       cred.errors,
					Violations:   f.Violations,
				}
			})
		})
	}
}

// TestSharedSite: two connections to one account, told apart by their
// groups.
func TestSharedSite(t *testing.T) {
	conformance.RunShared(t, func(t *testing.T) conformance.Site {
		f := startFake(t)
		support := connection(f.URL())
		support.Name = "Support desk"
		support.Options = map[string]json.RawMessage{"groupId": json.RawMessage(strconv.FormatInt(zdfake.SupportGroupID, 10))}
		network := connection(f.URL())
		network.Name = "Network team"
		network.Options = map[string]json.RawMessage{"groupId": json.RawMessage(`"` + strconv.FormatInt(zdfake.NetworkGroupID, 10) + `"`)}
		return conformance.Site{
			Connections: []conformance.Placed{
				{Connection: support, Where: strconv.FormatInt(zdfake.SupportGroupID, 10), CreateMethod: http.MethodPost, CreatePath: ticketsPath},
				{Connection: network, Where: strconv.FormatInt(zdfake.NetworkGroupID, 10), CreateMethod: http.MethodPost, CreatePath: ticketsPath},
			},
			Faults:     f.Faults,
			Places:     f.GroupsOf,
			Violations: f.Violations,
		}
	})
}

// TestVendorErrorMessages checks the message and class of each canned
// body, which the conformance suite checks only for some statuses.
func TestVendorErrorMessages(t *testing.T) {
	for code, ve := range vendorErrors {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := startFake(t)
			c := conformance.MustBuild(t, connection(f.URL()))
			h := http.Header{}
			if !strings.HasPrefix(ve.Body, "{") {
				h.Set("Content-Type", "text/plain; charset=utf-8")
			}
			f.Faults.Add(http.MethodPost, ticketsPath, fake.Fault{Kind: fake.Respond, Code: code, Header: h, Body: ve.Body})
			_, err := c.Create(context.Background(), conformance.Ticket())
			var e *connectors.Error
			if !errors.As(err, &e) || e.Status != code || e.Message != ve.Message {
				t.Fatalf("Create error = %#v, want status %d and message %q", err, code, ve.Message)
			}
			want := connectors.StatusClass(code)
			if code == http.StatusConflict {
				want = connectors.Retryable
			}
			if e.Class != want {
				t.Errorf("class = %v, want %v", e.Class, want)
			}
		})
	}
}

func startFake(t *testing.T, opts ...zdfake.Option) *zdfake.Fake {
	return fake.Closing(t, zdfake.Start(opts...))
}

func tokenCredentials() connectors.Credentials {
	return connectors.Credentials{Type: "api_token", Username: zdfake.Email, APIToken: zdfake.APIToken}
}

func connection(url string) connectors.Connection {
	return connectors.Connection{
		Name:        "Zendesk test",
		Type:        "zendesk",
		BaseURL:     url,
		Credentials: tokenCredentials(),
	}
}

func TestCategoryTag(t *testing.T) {
	for in, want := range map[string]string{"Network": "network", "Hardware  issue": "hardware_issue", " VPN, Remote ": "vpn_remote", "": ""} {
		if got := zendesk.CategoryTag(in); got != want {
			t.Errorf("CategoryTag(%q) = %q, want %q", in, got, want)
		}
	}
}
