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

// TestAdd: a reporter's addition is posted once, found by its key, and
// not posted again after a lost answer.
func TestAdd(t *testing.T) {
	conformance.RunAdd(t, func(t *testing.T) conformance.AddTarget {
		f := startFake(t)
		return conformance.AddTarget{
			Target: conformance.Target{
				Connection: connection(f.URL()),
				Faults:     f.Faults,
				Violations: f.Violations,
			},
			AddMethod: http.MethodPut,
			AddPath:   ticketsPath + "/",
			Comments:  func(t *testing.T, r connectors.Remote) []string { return f.Comments(mustID(t, r)) },
			Files:     func(t *testing.T, r connectors.Remote) int { return f.Files(mustID(t, r)) },
		}
	})
}

func mustID(t *testing.T, r connectors.Remote) int64 {
	t.Helper()
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil {
		t.Fatalf("remote id %q: %v", r.ID, err)
	}
	return id
}

// TestFindAdditionPages: FindAddition walks the ticket's comments page by
// page, matches the marker only as a whole line, and the addition is one
// public comment carrying its files.
func TestFindAdditionPages(t *testing.T) {
	ctx := context.Background()
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	ad := c.(connectors.Adder)
	r := conformance.MustCreate(t, c, conformance.Delivery(conformance.Ticket(), connection(f.URL())))
	id := mustID(t, r)
	key := connectors.DeliveryKey(connectors.NewKey(), "add")
	quoted := "See " + connectors.AdditionMarker(key) + " above"
	for i := range 150 {
		body := "note " + strconv.Itoa(i)
		if i == 3 {
			body = quoted // mentioned, not a marker line
		}
		if err := f.Act(id, zdfake.AgentUpdate{Comment: body}); err != nil {
			t.Fatal(err)
		}
	}
	if found, err := ad.FindAddition(ctx, r, key); err != nil || found {
		t.Fatalf("FindAddition before Add = %v, %v", found, err)
	}
	a := &connectors.Addition{Key: key, Text: "Still broken.", Author: connectors.User{Name: "Alice Example", Email: "alice@example.com"},
		Attachments: []connectors.Attachment{{Filename: "a.txt", ContentType: "text/plain", Data: []byte("a")}, {Filename: "b.txt", Data: []byte("b")}}}
	if err := ad.Add(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	before := len(f.Requests())
	if found, err := ad.FindAddition(ctx, r, key); err != nil || !found {
		t.Fatalf("FindAddition after Add = %v, %v", found, err)
	}
	var pages []string
	for _, q := range f.Requests()[before:] {
		pages = append(pages, q.RawQuery)
	}
	if len(pages) != 2 || !strings.Contains(pages[1], "page%5Bafter%5D=") {
		t.Errorf("FindAddition requests %q, want two pages, the second after a cursor", pages)
	}
	tk, _ := f.Ticket(id)
	last := tk.Comments[len(tk.Comments)-1]
	want := "Still broken.\n\nAdded by Alice Example <alice@example.com> with Ticketray\n" + connectors.AdditionMarker(key)
	if !last.Public || last.Body != want || len(last.Attachments) != 2 {
		t.Errorf("the addition's comment = public %v, %d files, body %q; want public, 2 files, %q", last.Public, len(last.Attachments), last.Body, want)
	}
	if last.AuthorID != tk.RequesterID {
		t.Errorf("the addition's author = %d, want the requester %d", last.AuthorID, tk.RequesterID)
	}
	// Someone other than the requester: the agent's comment, naming them.
	bob := connectors.User{Name: "Bob", Email: "bob@example.com"}
	if err := ad.Add(ctx, r, &connectors.Addition{Key: connectors.DeliveryKey(connectors.NewKey(), "add"), Text: "Me too.", Author: bob}); err != nil {
		t.Fatal(err)
	}
	tk, _ = f.Ticket(id)
	if last := tk.Comments[len(tk.Comments)-1]; last.AuthorID != zdfake.AgentID || !strings.Contains(last.Body, "Added by Bob <bob@example.com>") {
		t.Errorf("another reporter's addition = author %d, body %q; want the agent %d, naming Bob", last.AuthorID, last.Body, zdfake.AgentID)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}
