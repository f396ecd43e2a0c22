package bmchelix_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/conformance"
	"github.com/ticketray/ticketray/connectors/fake"
)

// TestCreateMapping checks the values sent for each priority, with the
// built-in table and with a configured one.
func TestCreateMapping(t *testing.T) {
	for _, tc := range []struct {
		name             string
		table            map[string]string
		priority         connectors.Priority
		urgency, impact  string
		wantPriorityName string
	}{
		{"critical built in", nil, connectors.PriorityCritical, "1-Critical", "1-Extensive/Widespread", "Critical"},
		{"high built in", nil, connectors.PriorityHigh, "2-High", "2-Significant/Large", "High"},
		{"medium built in", nil, connectors.PriorityMedium, "3-Medium", "3-Moderate/Limited", "Medium"},
		{"low built in", nil, connectors.PriorityLow, "4-Low", "4-Minor/Localized", "Low"},
		{"configured row", map[string]string{"critical": "1,2", "default": "4"}, connectors.PriorityCritical, "1-Critical", "2-Significant/Large", "High"},
		{"configured default", map[string]string{"critical": "1,2", "default": "4"}, connectors.PriorityHigh, "4-Low", "4-Minor/Localized", "Low"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			if tc.table != nil {
				conn.Mappings = map[string]map[string]string{"priority": tc.table}
			}
			tk := conformance.Delivery(conformance.Ticket(), conn)
			tk.Priority = tc.priority
			r, err := conformance.MustBuild(t, conn).Create(ctx, tk)
			if err != nil {
				t.Fatal(err)
			}
			v := lastValues(t, f, createPath)
			if v["Urgency"] != tc.urgency || v["Impact"] != tc.impact {
				t.Errorf("sent urgency %v, impact %v; want %s, %s", v["Urgency"], v["Impact"], tc.urgency, tc.impact)
			}
			inc := f.Incidents()[0]
			if inc["Priority"] != tc.wantPriorityName || inc["Incident Number"] != r.Number {
				t.Errorf("incident %v has priority %v, want %s", inc["Incident Number"], inc["Priority"], tc.wantPriorityName)
			}
		})
	}
}

// TestCreateFields checks the fields every create carries and the
// options that change them.
func TestCreateFields(t *testing.T) {
	longSummary := strings.Repeat("Outlook asks for the password again ", 5)
	for _, tc := range []struct {
		name    string
		opts    map[string]json.RawMessage
		cats    map[string]string
		defCat  string
		summary string
		want    map[string]any // nil value: the field must be absent
	}{
		{"defaults", nil, nil, "", "VPN drops every hour", map[string]any{
			"z1D_Action": "CREATE", "Login_ID": bmcfake.Username, "Description": "VPN drops every hour",
			"Status": "New", "Reported Source": "Direct Input", "Service_Type": bmchelix.DefaultServiceType,
			"Company": nil, "Categorization Tier 1": nil}},
		{"company and service type", options("company", bmcfake.CompanyInvention, "serviceType", "User Service Request"), nil, "", "VPN", map[string]any{
			"Company": bmcfake.CompanyInvention, "Service_Type": "User Service Request"}},
		{"category table", nil, map[string]string{"Network": "Network Services", "default": "General"}, "", "VPN", map[string]any{
			"Categorization Tier 1": "Network Services"}},
		{"default category only", nil, nil, "Failure", "VPN", map[string]any{"Categorization Tier 1": "Network"}},
		{"long summary", nil, nil, "", longSummary, map[string]any{"Description": strings.TrimSpace(longSummary)[:99] + "…"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			conn.Options, conn.DefaultCategory = tc.opts, tc.defCat
			if tc.cats != nil {
				conn.Mappings = map[string]map[string]string{"category": tc.cats}
			}
			tk := conformance.Delivery(conformance.Ticket(), conn)
			tk.Summary = tc.summary
			if _, err := conformance.MustBuild(t, conn).Create(ctx, tk); err != nil {
				t.Fatal(err)
			}
			v := lastValues(t, f, createPath)
			for k, want := range tc.want {
				got, ok := v[k]
				if want == nil && ok {
					t.Errorf("%s = %v, want it absent", k, got)
				}
				if want != nil && got != want {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
			if v[bmchelix.DefaultReferenceField] != tk.IdempotencyKey {
				t.Errorf("%s = %v, want the delivery key", bmchelix.DefaultReferenceField, v[bmchelix.DefaultReferenceField])
			}
			if d, _ := v["Detailed_Decription"].(string); !strings.Contains(d, "=== System information ===") || !strings.Contains(d, "Flush DNS cache") {
				t.Errorf("Detailed_Decription lacks system information or skill results:\n%s", d)
			}
			if q := f.Requests(); !strings.Contains(lastQuery(q, createPath), "values(Incident Number)") {
				t.Errorf("create does not ask for the Incident Number back: %s", lastQuery(q, createPath))
			}
		})
	}
}

func lastQuery(reqs []bmcfake.Request, path string) string {
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == path {
			return reqs[i].Query.Get("fields")
		}
	}
	return ""
}

// TestCustomReferenceField: the key goes into options.referenceField, and
// Find searches that field.
func TestCustomReferenceField(t *testing.T) {
	f := startFake(t, bmcfake.WithReferenceField("Ticketray Key"))
	conn := connection(f.URL())
	conn.Options = options("referenceField", "Ticketray Key")
	c := conformance.MustBuild(t, conn)
	tk := conformance.Delivery(conformance.Ticket(), conn)
	r, err := c.Create(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	v := lastValues(t, f, createPath)
	if v["Ticketray Key"] != tk.IdempotencyKey || v[bmchelix.DefaultReferenceField] != nil {
		t.Errorf("sent %v", v)
	}
	if found, err := c.Find(ctx, tk.IdempotencyKey); err != nil || found.Number != r.Number {
		t.Errorf("Find = %+v, %v; want %s", found, err, r.Number)
	}
	reqs := f.Requests()
	if q := reqs[len(reqs)-1].Query.Get("q"); q != `'Ticketray Key' = "`+tk.IdempotencyKey+`"` {
		t.Errorf("find q = %s", q)
	}
}

// TestFindScopedByCompany: with options.company, Find ignores a record
// that carries the key under another company.
func TestFindScopedByCompany(t *testing.T) {
	f := startFake(t)
	calbro, invention := connection(f.URL()), connection(f.URL())
	calbro.Options = options("company", bmcfake.CompanyCalbro)
	invention.Options = options("company", bmcfake.CompanyInvention)
	tk := conformance.Delivery(conformance.Ticket(), calbro)
	r, err := conformance.MustBuild(t, calbro).Create(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conformance.MustBuild(t, invention).Find(ctx, tk.IdempotencyKey); !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("another company's Find = %v, want ErrNotFound", err)
	}
	if got, err := conformance.MustBuild(t, calbro).Find(ctx, tk.IdempotencyKey); err != nil || got.Number != r.Number {
		t.Errorf("own Find = %+v, %v", got, err)
	}
	reqs := f.Requests()
	want := `'Vendor Ticket Number' = "` + tk.IdempotencyKey + `" AND 'Company' = "Calbro Services"`
	if q := reqs[len(reqs)-1].Query.Get("q"); q != want {
		t.Errorf("find q = %s, want %s", q, want)
	}
}

// TestFindRejectsAnotherRecord: a server that ignored the qualification
// and answered with any incident must not make Find take it.
func TestFindRejectsAnotherRecord(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	f.Faults.Add(http.MethodGet, "/api/arsys/v1/entry/HPD:Help Desk", faultRespond(200,
		`{"entries":[{"values":{"Incident Number":"INC000000000430","Vendor Ticket Number":null,"Company":"Calbro Services","Submit Date":"2022-06-21T11:08:05.000+0000"}}],"_links":{}}`))
	_, err := c.Find(ctx, connectors.NewKey())
	wantClass(t, err, connectors.Permanent, 0)
}

// TestToken: one login serves many calls; an expired token is renewed
// once on 401; the token and password never reach an error or a request
// other than the login.
func TestToken(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	r, err := c.Create(ctx, conformance.Delivery(conformance.Ticket(), conn))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := f.Logins(); n != 1 {
		t.Errorf("logins = %d, want 1 for several calls", n)
	}
	f.ExpireTokens()
	if _, err := c.Status(ctx, r); err != nil {
		t.Fatalf("Status after the token expired: %v", err)
	}
	if n := f.Logins(); n != 2 {
		t.Errorf("logins = %d, want one more after the 401", n)
	}
	for _, req := range f.Requests() {
		auth := req.Header.Get("Authorization")
		if req.Path == "/api/jwt/login" {
			if got := req.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
				t.Errorf("login Content-Type = %q", got)
			}
			continue
		}
		if !strings.HasPrefix(auth, "AR-JWT ") {
			t.Errorf("%s %s sent Authorization %q, want AR-JWT", req.Method, req.Path, strings.SplitN(auth, " ", 2)[0])
		}
		if bytes.Contains(req.Body, []byte(bmcfake.Password)) {
			t.Errorf("%s %s carries the password", req.Method, req.Path)
		}
	}
}

// TestErrorsCarryNoSecrets: failures at every step name neither the
// password nor the token.
func TestErrorsCarryNoSecrets(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	bad := conn
	bad.Credentials.Password = "Wrong-" + bmcfake.Password
	_, err1 := conformance.MustBuild(t, bad).Create(ctx, conformance.Delivery(conformance.Ticket(), bad))
	c := conformance.MustBuild(t, conn)
	f.Faults.Add(http.MethodPost, createPath, fake.Fault{Kind: fake.ResetBefore})
	_, err2 := c.Create(ctx, conformance.Delivery(conformance.Ticket(), conn))
	for _, err := range []error{err1, err2} {
		if err == nil {
			t.Fatal("no error")
		}
		if s := err.Error(); strings.Contains(s, bmcfake.Password) || strings.Contains(s, "eyJ") {
			t.Errorf("error carries a secret: %s", s)
		}
	}
}

// TestStatusCommentAttach: Status reads HPD:Help Desk; Comment and Attach
// add work info tied to the incident.
func TestStatusCommentAttach(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	tk := conformance.Delivery(conformance.Ticket(), conn)
	tk.Attachments = []connectors.Attachment{{Filename: "screen.png", ContentType: "image/png", Data: []byte("\x89PNG..."), SizeBytes: 7}}
	r, err := c.Create(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.Status(ctx, r); err != nil || st.Status != "New" || st.Number != r.Number || st.UpdatedAt.IsZero() {
		t.Errorf("Status = %+v, %v", st, err)
	}
	f.SetStatus(r.Number, "Resolved")
	if st, err := c.Status(ctx, r); err != nil || st.Status != "Resolved" {
		t.Errorf("Status after resolving = %+v, %v", st, err)
	}
	if err := c.Comment(ctx, r, "The user added: it happens on Wi-Fi only."); err != nil {
		t.Fatal(err)
	}
	logs := f.WorkLogs(r.Number)
	if len(logs) != 3 {
		t.Fatalf("work info entries = %d, want systeminfo.json, screen.png and the comment", len(logs))
	}
	for i, want := range []struct{ name, contentType string }{{"systeminfo.json", "application/json"}, {"screen.png", "image/png"}} {
		fl := logs[i].Files
		if len(fl) != 1 || fl[0].Name != want.name || fl[0].Field != "z2AF Work Log01" || fl[0].ContentType != want.contentType {
			t.Errorf("work info %d files = %+v, want %s", i, fl, want.name)
		}
	}
	if !bytes.Equal(logs[1].Files[0].Data, tk.Attachments[0].Data) {
		t.Error("the uploaded file differs")
	}
	note := logs[2].Values
	if note["Detailed Description"] != "The user added: it happens on Wi-Fi only." || note["View Access"] != "Internal" ||
		note["Work Log Type"] != "General Information" || note["Incident Entry ID"] == nil {
		t.Errorf("comment work info = %v", note)
	}

	missing := connectors.Remote{ID: "INC000000999999", Number: "INC000000999999"}
	wantClass(t, c.Comment(ctx, missing, "x"), connectors.Permanent, http.StatusNotFound)
	wantClass(t, c.Attach(ctx, connectors.Remote{ID: "not a number"}, connectors.Attachment{Filename: "a.txt"}), connectors.Permanent, 0)
	wantClass(t, c.Attach(ctx, r, connectors.Attachment{Filename: "../a.txt"}), connectors.Permanent, 0)
	wantClass(t, c.Comment(ctx, r, "  "), connectors.Permanent, 0)
}

// TestAttachFailureDoesNotFailCreate: the incident exists, so a refused
// upload leaves the create successful.
func TestAttachFailureDoesNotFailCreate(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	f.Faults.Always(http.MethodPost, "/api/arsys/v1/entry/HPD:WorkLog", faultRespond(500, vendorErrors[500].Body))
	r, err := conformance.MustBuild(t, conn).Create(ctx, conformance.Delivery(conformance.Ticket(), conn))
	if err != nil || r.Number == "" {
		t.Fatalf("Create = %+v, %v", r, err)
	}
}

// TestCreateWithoutNumber: a 2xx without the Incident Number is an
// unknown outcome, so the retry finds first.
func TestCreateWithoutNumber(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	f.Faults.Add(http.MethodPost, createPath, fake.Fault{Kind: fake.Respond, Code: 201, Body: `{"values":{},"_links":{}}`})
	_, err := conformance.MustBuild(t, conn).Create(ctx, conformance.Delivery(conformance.Ticket(), conn))
	if e := wantClass(t, err, connectors.Retryable, 0); !e.Sent {
		t.Error("the outcome is not marked unknown (Sent)")
	}
}

// TestLoginFailures classifies what the login can answer.
func TestLoginFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  fake.Fault
		class  connectors.Class
		status int
		hint   string
	}{
		{"rate limited", fake.Fault{Kind: fake.Respond, Code: 429, Header: http.Header{"Retry-After": {"30"}}, Body: vendorErrors[429].Body}, connectors.Retryable, 429, ""},
		{"server down", fake.Fault{Kind: fake.Respond, Code: 503, Body: "<html>Service Unavailable</html>"}, connectors.Retryable, 503, ""},
		{"not the REST server", fake.Fault{Kind: fake.Respond, Code: 404, Body: "<html>Not Found</html>"}, connectors.Permanent, 404, "AR REST server"},
		{"an HTML page", fake.Fault{Kind: fake.Respond, Code: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html><title>BMC Helix</title></html>"}, connectors.Permanent, 200, "AR REST server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			f.Faults.Add(http.MethodPost, "/api/jwt/login", tc.fault)
			tk := conformance.Delivery(conformance.Ticket(), conn)
			_, err := conformance.MustBuild(t, conn).Create(ctx, tk)
			e := wantClass(t, err, tc.class, tc.status)
			if e.Sent {
				t.Error("a failed login marks the ticket as possibly sent")
			}
			if !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("error %q lacks the hint %q", err, tc.hint)
			}
			if tc.status == 429 && e.RetryAfter.Seconds() != 30 {
				t.Errorf("RetryAfter = %v, want 30s", e.RetryAfter)
			}
			if f.Count(tk.IdempotencyKey) != 0 {
				t.Error("an incident was created")
			}
		})
	}
}

// TestCheck: connections test names the usual setup mistakes.
func TestCheck(t *testing.T) {
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><title>Smart IT</title></html>"))
	}))
	t.Cleanup(html.Close)
	for _, tc := range []struct {
		name   string
		setup  func(f *bmcfake.Fake, c *connectors.Connection)
		status int
		hint   string // "" means Check must succeed
	}{
		{"valid", func(*bmcfake.Fake, *connectors.Connection) {}, 0, ""},
		{"wrong password", func(_ *bmcfake.Fake, c *connectors.Connection) { c.Credentials.Password = "nope" }, 401, "refused the username or password"},
		{"Smart IT URL", func(_ *bmcfake.Fake, c *connectors.Connection) { c.BaseURL = html.URL }, 200, "AR REST server"},
		{"missing reference field", func(_ *bmcfake.Fake, c *connectors.Connection) {
			c.Options = options("referenceField", "Ticketray Key")
		}, 400, "options.referenceField"},
		{"no permission", func(f *bmcfake.Fake, _ *connectors.Connection) {
			f.Faults.Add(http.MethodGet, "/api/arsys/v1/entry/HPD:Help Desk", faultRespond(403,
				`[{"messageType":"ERROR","messageText":"You do not have read access to the form","messageNumber":8960}]`))
		}, 403, "Incident Management permission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			conn := connection(f.URL())
			tc.setup(f, &conn)
			err := conformance.MustBuild(t, conn).Check(ctx)
			if tc.hint == "" {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			wantClass(t, err, connectors.Permanent, tc.status)
			if err == nil || !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("Check = %v, want a hint containing %q", err, tc.hint)
			}
		})
	}
}

// TestValidate: the vendor's config rules reach Connection.Validate.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(c *connectors.Connection)
		field string // "" means valid
	}{
		{"valid", func(*connectors.Connection) {}, ""},
		{"all options", func(c *connectors.Connection) {
			c.Options = options("referenceField", "Ticketray Key", "company", "Calbro Services", "serviceType", "Infrastructure Event")
		}, ""},
		{"bearer token", func(c *connectors.Connection) {
			c.Credentials = connectors.Credentials{Type: "bearer", Token: "t"}
		}, "credentials.type"},
		{"quote in reference field", func(c *connectors.Connection) { c.Options = options("referenceField", "Vendor's key") }, "options.referenceField"},
		{"unknown service type", func(c *connectors.Connection) { c.Options = options("serviceType", "Restoration") }, "options.serviceType"},
		{"priority name", func(c *connectors.Connection) {
			c.Mappings = map[string]map[string]string{"priority": {"high": "High"}}
		}, "mappings.priority.high"},
		{"priority out of range", func(c *connectors.Connection) {
			c.Mappings = map[string]map[string]string{"priority": {"default": "5"}}
		}, "mappings.priority.default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connection("https://calbro-restapi.onbmc.com")
			tc.edit(&c)
			errs := c.Validate()
			if tc.field == "" {
				if len(errs) > 0 {
					t.Errorf("Validate = %v", errs)
				}
				return
			}
			found := false
			for _, e := range errs {
				found = found || e.Field == tc.field
			}
			if !found {
				t.Errorf("Validate = %v, want an error on %s", errs, tc.field)
			}
		})
	}
}

// TestFakeIsStrict: the fake refuses what the AR server refuses, so a
// connector that drifts fails here.
func TestFakeIsStrict(t *testing.T) {
	f := startFake(t)
	login := func() string {
		resp, err := http.Post(f.URL()+"/api/jwt/login", "application/x-www-form-urlencoded",
			strings.NewReader("username="+bmcfake.Username+"&password="+bmcfake.Password))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.String()
	}
	tok := login()
	valid := `{"values":{"z1D_Action":"CREATE","Login_ID":"svc_ticketray","Description":"d","Impact":"4-Minor/Localized","Urgency":"4-Low","Status":"New","Reported Source":"Direct Input","Service_Type":"User Service Restoration","Vendor Ticket Number":"k"}}`
	for _, tc := range []struct {
		name, method, path, auth, ct, body string
		status, arerr                      int
	}{
		{"valid create", "POST", createPath, "AR-JWT " + tok, "application/json", valid, 201, 0},
		{"basic auth", "POST", createPath, "Basic c3ZjOnB3", "application/json", valid, 401, 623},
		{"bearer", "POST", createPath, "Bearer " + tok, "application/json", valid, 401, 623},
		{"unknown field", "POST", createPath, "AR-JWT " + tok, "application/json", strings.Replace(valid, `"d"`, `"d","Summary":"x"`, 1), 400, 314},
		{"bad selection", "POST", createPath, "AR-JWT " + tok, "application/json", strings.Replace(valid, "4-Low", "Low", 1), 400, 306},
		{"missing impact", "POST", createPath, "AR-JWT " + tok, "application/json", strings.Replace(valid, `"Impact":"4-Minor/Localized",`, "", 1), 400, 326},
		{"unknown customer", "POST", createPath, "AR-JWT " + tok, "application/json", strings.Replace(valid, "svc_ticketray", "nobody", 1), 400, 1291053},
		{"form body", "POST", createPath, "AR-JWT " + tok, "application/x-www-form-urlencoded", "a=b", 415, 8960},
		{"bad qualification", "GET", "/api/arsys/v1/entry/HPD:Help%20Desk?q=Status%3DNew", "AR-JWT " + tok, "", "", 400, 1587},
		{"unknown query field", "GET", "/api/arsys/v1/entry/HPD:Help%20Desk?q=%27Summary%27%3D%22x%22", "AR-JWT " + tok, "", "", 400, 314},
		{"unknown projected field", "GET", "/api/arsys/v1/entry/HPD:Help%20Desk?fields=values(Summary)", "AR-JWT " + tok, "", "", 400, 314},
		{"unknown form", "GET", "/api/arsys/v1/entry/HPD:Nope", "AR-JWT " + tok, "", "", 404, 303},
		{"worklog without incident", "POST", "/api/arsys/v1/entry/HPD:WorkLog", "AR-JWT " + tok, "application/json", `{"values":{"Incident Number":"INC000000999999","Description":"x"}}`, 400, 1291053},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.URL()+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", tc.auth)
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.arerr != 0 {
				var body []struct{ MessageNumber int }
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body) != 1 || body[0].MessageNumber != tc.arerr {
					t.Errorf("body = %+v, %v; want ARERR %d", body, err, tc.arerr)
				}
			}
		})
	}
	resp, err := http.Post(f.URL()+"/api/jwt/login", "application/x-www-form-urlencoded", strings.NewReader("username=svc_ticketray&password=wrong"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("login with a wrong password = %d, want 401", resp.StatusCode)
	}
}

// TestFindOldest: when an earlier version left two incidents with one
// key, Find returns the first one created.
func TestFindOldest(t *testing.T) {
	f := startFake(t)
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	tk := conformance.Delivery(conformance.Ticket(), conn)
	first, err := c.Create(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Find(ctx, tk.IdempotencyKey); err != nil || got.Number != first.Number {
		t.Errorf("Find = %+v, %v; want the first incident %s", got, err, first.Number)
	}
}

// TestRateLimitAndTokenTTL: the fake's rate limit answers 429 with
// Retry-After, which the connector honours; its tokens expire with its
// clock, and the connector logs in again.
func TestRateLimitAndTokenTTL(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 30, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := startFake(t, bmcfake.WithClock(clock), bmcfake.WithRateLimit(1), bmcfake.WithTokenTTL(time.Minute))
	conn := connection(f.URL())
	c := conformance.MustBuild(t, conn)
	r, err := c.Create(ctx, conformance.Delivery(conformance.Ticket(), conn))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(ctx, r)
	if e := wantClass(t, err, connectors.Retryable, http.StatusTooManyRequests); e.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s", e.RetryAfter)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute) // a new window; the token has expired
	mu.Unlock()
	if _, err := c.Status(ctx, r); err != nil {
		t.Fatalf("Status in the next minute: %v", err)
	}
	if n := f.Logins(); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
}

// TestServerErrorClass: a 500 carrying an AR validation error is
// permanent; one carrying a lost server connection is retried.
func TestServerErrorClass(t *testing.T) {
	for _, tc := range []struct {
		body  string
		class connectors.Class
	}{
		{`[{"messageType":"ERROR","messageText":"Required field cannot be blank.","messageAppendedText":"Impact","messageNumber":326}]`, connectors.Permanent},
		{vendorErrors[500].Body, connectors.Retryable},
	} {
		f := startFake(t)
		conn := connection(f.URL())
		f.Faults.Add(http.MethodPost, createPath, faultRespond(500, tc.body))
		_, err := conformance.MustBuild(t, conn).Create(ctx, conformance.Delivery(conformance.Ticket(), conn))
		wantClass(t, err, tc.class, 500)
	}
}
