package bmchelix_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
)

const createPath = "/api/arsys/v1/entry/HPD:IncidentInterface_Create"

// Error bodies in the AR System REST format. 401 (ARERR 623) is the
// server's login answer as quoted in public client code; 400 and 404 use
// AR messages (314, 302); 429 and 500 are the fake's wording in the format.
var vendorErrors = map[int]conformance.VendorError{
	400: {
		Body:    `[{"messageType":"ERROR","messageText":"Field does not exist on current form","messageAppendedText":"HPD:Help Desk : <Ticketray Key>","messageNumber":314}]`,
		Message: "ERROR (314): Field does not exist on current form; HPD:Help Desk : <Ticketray Key>",
	},
	401: {
		Body:    `[{"messageType":"ERROR","messageText":"Authentication failed","messageAppendedText":"svc_ticketray","messageNumber":623}]`,
		Message: "ERROR (623): Authentication failed; svc_ticketray",
	},
	404: {
		Body:    `[{"messageType":"ERROR","messageText":"Entry does not exist in database","messageAppendedText":null,"messageNumber":302}]`,
		Message: "ERROR (302): Entry does not exist in database",
	},
	429: {
		Body:    `[{"messageType":"ERROR","messageText":"Too many requests; try again later","messageAppendedText":null,"messageNumber":9093}]`,
		Message: "ERROR (9093): Too many requests; try again later",
	},
	500: {
		Body:    `[{"messageType":"ERROR","messageText":"Cannot establish a network connection to the AR System server","messageAppendedText":"arserver:46262","messageNumber":90}]`,
		Message: "ERROR (90): Cannot establish a network connection to the AR System server; arserver:46262",
	},
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Target { return target(startFake(t)) })
}

// target is the conformance suites' view of a fake.
func target(f *bmcfake.Fake) conformance.Target {
	return conformance.Target{
		Connection:   connection(f.URL()),
		Faults:       f.Faults,
		CreateMethod: http.MethodPost,
		CreatePath:   createPath,
		Count:        f.Count,
		Errors:       vendorErrors,
	}
}

// TestSharedSite: two connections to one AR server, told apart by their
// company (one of them also keeps its key in a field of its own).
func TestSharedSite(t *testing.T) {
	conformance.RunShared(t, func(t *testing.T) conformance.Site {
		f := startFake(t, bmcfake.WithReferenceField("Ticketray Key"))
		calbro := connection(f.URL())
		calbro.Name = "Calbro desk"
		calbro.Options = options("company", bmcfake.CompanyCalbro)
		invention := connection(f.URL())
		invention.Name = "Invention desk"
		invention.Options = options("company", bmcfake.CompanyInvention, "referenceField", "Ticketray Key")
		return conformance.Site{
			Connections: []conformance.Placed{
				{Connection: calbro, Where: bmcfake.CompanyCalbro, CreateMethod: http.MethodPost, CreatePath: createPath},
				{Connection: invention, Where: bmcfake.CompanyInvention, CreateMethod: http.MethodPost, CreatePath: createPath},
			},
			Faults: f.Faults,
			Places: f.CompaniesOf,
		}
	})
}

func startFake(t *testing.T, opts ...bmcfake.Option) *bmcfake.Fake {
	return fake.Closing(t, bmcfake.Start(opts...))
}

func connection(url string) connectors.Connection {
	return connectors.Connection{
		Name:        "BMC Helix test",
		Type:        bmchelix.Type,
		BaseURL:     url,
		Credentials: connectors.Credentials{Type: "basic", Username: bmcfake.Username, Password: bmcfake.Password},
	}
}

// options builds Connection.Options from name, value pairs.
func options(kv ...string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for i := 0; i+1 < len(kv); i += 2 {
		b, _ := json.Marshal(kv[i+1])
		m[kv[i]] = b
	}
	return m
}

// lastBody is the JSON "values" of the last POST to path.
func lastValues(t *testing.T, f *bmcfake.Fake, path string) map[string]any {
	t.Helper()
	reqs := f.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == http.MethodPost && reqs[i].Path == path {
			var in struct{ Values map[string]any }
			if err := json.Unmarshal(reqs[i].Body, &in); err != nil {
				t.Fatalf("body of %s: %v", path, err)
			}
			return in.Values
		}
	}
	t.Fatalf("no POST to %s", path)
	return nil
}

func wantClass(t *testing.T, err error, class connectors.Class, status int) *connectors.Error {
	t.Helper()
	var e *connectors.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *connectors.Error", err, err)
	}
	if e.Class != class || e.Status != status {
		t.Errorf("error = %v: class %v status %d, want %v %d", err, e.Class, e.Status, class, status)
	}
	return e
}

var ctx = context.Background()

func TestVendorErrorMessages(t *testing.T) {
	for code, ve := range vendorErrors {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := startFake(t)
			c := conformance.MustBuild(t, connection(f.URL()))
			f.Faults.Add(http.MethodPost, createPath, faultRespond(code, ve.Body))
			if code == http.StatusUnauthorized { // the first 401 renews the token
				f.Faults.Add(http.MethodPost, createPath, faultRespond(code, ve.Body))
			}
			_, err := c.Create(ctx, conformance.Delivery(conformance.Ticket(), connection(f.URL())))
			var e *connectors.Error
			if !errors.As(err, &e) || e.Message != ve.Message {
				t.Errorf("message = %q, want %q (%v)", messageOf(err), ve.Message, err)
			}
		})
	}
}

func messageOf(err error) string {
	var e *connectors.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

func TestRegistered(t *testing.T) {
	if !strings.Contains(strings.Join(connectors.Registered(), ","), bmchelix.Type) {
		t.Fatalf("%s is not registered: %v", bmchelix.Type, connectors.Registered())
	}
}
