package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketray/ticketray/connectors"
)

const secret = "hunter2-literal-secret"

// prettyUser is a hand-written user file: members in no canonical order,
// vendor options the loader does not interpret, every kind of secret.
const prettyUser = `{
  "version": 1,
  "categories": ["Network", "Other"],
  "connections": [
    {
      "type": "servicenow",
      "name": "SN",
      "baseUrl": "https://sn.example",
      "credentials": {"type": "basic", "username": "svc", "password": "` + secret + `"},
      "mappings": {
        "priority": {
          "critical": "1",
          "high": "2",
          "default": "3"
        }
      },
      "options": {"assignmentGroup": "Desk", "x-custom": {"nested": [1, 2, {"b": true}]}}
    },
    {
      "name": "J",
      "type": "jira",
      "baseUrl": "https://j.example",
      "credentials": {"type": "api_token", "username": "u", "apiToken": "env:JIRA_TOKEN"},
      "enabled": true
    },
    {"name": "Z", "type": "zendesk", "baseUrl": "https://z.example", "credentials": {"type": "bearer", "token": "keyring:zd"}, "mappings": null}
  ],
  "policy": {"retentionDays": 7}
}
`

func TestSetMappingSplice(t *testing.T) {
	compact := `{"version":1,"connections":[{"name":"C","type":"jira","baseUrl":"https://c.example","credentials":{"type":"bearer","token":"` + secret + `"}}]}`
	tests := []struct {
		name       string
		file       string
		conn, kind string
		table      map[string]string
		old, new   string // the file's only change: old becomes new
	}{
		{"multi-line table: kept rows keep their order, new rows before default", prettyUser, "SN", "priority",
			map[string]string{"critical": "1,1", "low": "3,3", "default": "3"},
			`{
          "critical": "1",
          "high": "2",
          "default": "3"
        }`, `{
          "critical": "1,1",
          "low": "3,3",
          "default": "3"
        }`},
		{"no mappings: a member added at the last member's indent", prettyUser, "J", "category",
			map[string]string{"Network": "net", "default": "general", "Other": "misc"},
			`"enabled": true
`, `"enabled": true,
      "mappings": {
        "category": {
          "Network": "net",
          "Other": "misc",
          "default": "general"
        }
      }
`},
		{"mappings null on a one-line entry", prettyUser, "Z", "priority",
			map[string]string{"high": "urgent", "default": "normal"},
			`"mappings": null}`, `"mappings": {"priority": {"high": "urgent", "default": "normal"}}}`},
		{"a second table in an existing mappings object", prettyUser, "SN", "category",
			map[string]string{"default": "IT"},
			`"default": "3"
        }
      },`, `"default": "3"
        },
        "category": {
          "default": "IT"
        }
      },`},
		{"keys normalised: default and priorities in lower case, values trimmed", prettyUser, "SN", "priority",
			map[string]string{"CRITICAL": " 1 ", "High": "2", "Default": "3", "medium": "3"},
			`"default": "3"
        }`, `"medium": "3",
          "default": "3"
        }`},
		{"a compact file stays compact", compact, "C", "category",
			map[string]string{"default": "general"},
			`"}}]}`, `"},"mappings":{"category":{"default":"general"}}}]}`},
		{"CRLF line endings stay CRLF", strings.ReplaceAll(prettyUser, "\n", "\r\n"), "J", "priority",
			map[string]string{"default": "Medium"},
			"\"enabled\": true\r\n", "\"enabled\": true,\r\n      \"mappings\": {\r\n        \"priority\": {\r\n          \"default\": \"Medium\"\r\n        }\r\n      }\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, map[string]string{"user.json": tt.file})
			o := opts(dir)
			ch, err := SetMapping(o, tt.conn, tt.kind, tt.table)
			if err != nil {
				t.Fatal(err)
			}
			if !ch.Changed || ch.Source != o.UserFile {
				t.Errorf("change = %+v", ch)
			}
			got, _ := os.ReadFile(o.UserFile)
			if strings.Count(tt.file, tt.old) != 1 {
				t.Fatalf("the case's old text is not unique in the file")
			}
			if want := strings.Replace(tt.file, tt.old, tt.new, 1); string(got) != want {
				t.Errorf("file:\n%s\nwant:\n%s", got, want)
			}
			l, err := LoadLayers(o)
			if err != nil {
				t.Fatal(err)
			}
			st, err := l.Mapping(tt.conn, tt.kind)
			if err != nil || !maps.Equal(st.Table, ch.Table) {
				t.Errorf("loaded table %v (%v), want %v", st, err, ch.Table)
			}
			// The same table again is no change and no write.
			before, _ := os.Stat(o.UserFile)
			ch, err = SetMapping(o, tt.conn, tt.kind, ch.Table)
			after, _ := os.Stat(o.UserFile)
			if err != nil || ch.Changed || !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("setting the same table again: %+v, %v", ch, err)
			}
		})
	}
}

func TestSetMappingKeepsModeAndSecrets(t *testing.T) {
	dir := tree(t, map[string]string{"user.json": prettyUser})
	o := opts(dir)
	if err := os.Chmod(o.UserFile, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := SetMapping(o, "J", "priority", map[string]string{"default": "Medium"}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(o.UserFile)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %o, want 640", st.Mode().Perm())
	}
	got, _ := os.ReadFile(o.UserFile)
	for _, s := range []string{`"password": "` + secret + `"`, `"apiToken": "env:JIRA_TOKEN"`, `"token": "keyring:zd"`} {
		if !bytes.Contains(got, []byte(s)) {
			t.Errorf("the file lost %s", s)
		}
	}
	// A new file (replaceFile's own case) is private.
	p := filepath.Join(dir, "new.json")
	if err := replaceFile(p, []byte("{}"), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %o, want 600", st.Mode().Perm())
	}
}

func TestSetMappingRefused(t *testing.T) {
	managedSN := `{"version":1,"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://it.example","credentials":{"type":"basic","username":"u","password":"env:P"}}]}`
	tests := []struct {
		name    string
		files   map[string]string
		conn    string
		kind    string
		table   map[string]string
		is      error  // errors.Is target, or nil
		problem bool   // a *Error from the loader's validation
		want    string // in the message
	}{
		{"no default row", map[string]string{"user.json": prettyUser}, "SN", "priority",
			map[string]string{"critical": "1"}, ErrInvalidMapping, false, `needs a "default" row`},
		{"an empty value", map[string]string{"user.json": prettyUser}, "SN", "priority",
			map[string]string{"high": " ", "default": "3"}, ErrInvalidMapping, false, `row "high": has no value`},
		{"an unknown priority", map[string]string{"user.json": prettyUser}, "SN", "priority",
			map[string]string{"urgent": "1", "default": "3"}, ErrInvalidMapping, false, `row "urgent": priority row key must be one of`},
		{"a value the vendor does not take", map[string]string{"user.json": prettyUser}, "SN", "priority",
			map[string]string{"high": "P1", "default": "3"}, ErrInvalidMapping, false, `row "high": must be an urgency and impact`},
		{"a category the config does not list", map[string]string{"user.json": prettyUser}, "SN", "category",
			map[string]string{"Printers": "p", "default": "3"}, ErrInvalidMapping, false, `row "Printers": is not one of the config's categories (Network, Other)`},
		{"the same row twice", map[string]string{"user.json": prettyUser}, "SN", "category",
			map[string]string{"Network": "a", "network": "b", "default": "3"}, ErrInvalidMapping, false, `row "network": is the same row as "Network"`},
		{"connections locked by IT", map[string]string{
			"user.json":           prettyUser,
			"managed/config.json": `{"version":1,"locked":["connections"]}`,
		}, "SN", "priority", map[string]string{"default": "3"}, ErrLocked, false, `"connections" is locked by IT in `},
		{"the connection is a managed entry", map[string]string{
			"user.json":           prettyUser,
			"managed/config.json": managedSN,
		}, "SN", "priority", map[string]string{"default": "3"}, ErrLocked, false, `connection "SN" is defined by the managed file`},
		{"no user file: a managed connection is not copied into a new one", map[string]string{
			"managed/config.json": managedSN,
		}, "SN", "priority", map[string]string{"default": "3"}, ErrLocked, false, "whose entry replaces yours whole"},
		{"unknown connection", map[string]string{"user.json": prettyUser}, "Nope", "priority",
			map[string]string{"default": "3"}, ErrUnknownConnection, false, `no such connection "Nope"`},
		{"a result the loader refuses", map[string]string{"user.json": prettyUser}, "SN", "severity",
			map[string]string{"default": "3"}, nil, true, "user.json:16:21: connections[0].mappings.severity: unknown mapping table"},
		{"two entries of one name", map[string]string{"user.json": `{"version":1,"connections":[` + c("D", "https://first.example") + `,` + c("D", "https://second.example") + `]}`}, "D", "category",
			map[string]string{"default": "y"}, nil, true, `connections[1].name: duplicates an earlier connection's name "D"`},
		{"a config that is already invalid", map[string]string{"user.json": strings.Replace(prettyUser, `"version": 1,`, `"version": 1, "oops": 1,`, 1)}, "SN", "priority",
			map[string]string{"default": "3"}, nil, true, `unknown key "oops"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, tt.files)
			o := opts(dir)
			assertRefused(t, dir, o.UserFile, func() error {
				_, err := SetMapping(o, tt.conn, tt.kind, tt.table)
				return err
			}, fmt.Sprintf("config: set mapping %s.%s: ", tt.conn, tt.kind), tt.want, tt.is, tt.problem)
		})
	}
}

func TestMappingState(t *testing.T) {
	dir := tree(t, map[string]string{
		"user.json":           prettyUser,
		"managed/config.json": `{"version":1,"connections":[` + c("IT", "https://it.example") + `]}`,
	})
	l, err := LoadLayers(opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.Mapping("SN", "priority")
	if err != nil || !st.Editable || st.Layer != KindUser || st.Lock != nil || st.Table["high"] != "2" {
		t.Errorf("SN: %+v, %v", st, err)
	}
	st, err = l.Mapping("IT", "priority")
	if err != nil || st.Editable || st.Layer != KindManaged || st.Lock == nil || !st.Lock.Managed || len(st.Table) != 0 {
		t.Errorf("IT: %+v, %v", st, err)
	}
}

func TestSetMappingSeenByWatcher(t *testing.T) {
	dir := tree(t, map[string]string{"user.json": prettyUser})
	o := opts(dir)
	l, err := LoadLayers(o)
	if err != nil {
		t.Fatal(err)
	}
	tick := make(chan time.Time)
	ticked := make(chan struct{})
	events := make(chan *Loaded, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, o, WatchOptions{Since: l.Fingerprint, Tick: tick, ticked: ticked}, func(l *Loaded, err error) {
			if err != nil {
				t.Error(err)
			}
			events <- l
		})
		close(done)
	}()
	defer func() { cancel(); <-done }()

	if _, err := SetMapping(o, "SN", "priority", map[string]string{"critical": "1,1", "default": "3"}); err != nil {
		t.Fatal(err)
	}
	if o.Fingerprint() == l.Fingerprint {
		t.Error("the fingerprint did not change")
	}
	tick <- time.Now()
	<-ticked
	select {
	case l := <-events:
		if got := l.Config.Connections[0].Mappings["priority"]; !maps.Equal(got, map[string]string{"critical": "1,1", "default": "3"}) {
			t.Errorf("reloaded table %v", got)
		}
	default:
		t.Fatal("the watcher did not reload")
	}
}

// TestEditHelperProcess is a concurrent writer in another process (see
// TestSetMappingConcurrent); it does nothing in a normal run.
func TestEditHelperProcess(t *testing.T) {
	file, id := os.Getenv("TICKETRAY_EDIT_FILE"), os.Getenv("TICKETRAY_EDIT_ID")
	if file == "" {
		t.Skip("helper process only")
	}
	for i := range 5 {
		if err := addRow(LoadOptions{ConfigFile: file}, fmt.Sprintf("%s-%d", id, i)); err != nil {
			t.Fatal(err)
		}
	}
}

func addRow(o LoadOptions, key string) error {
	_, err := EditMapping(o, "SN", "category", func(cur map[string]string) (map[string]string, error) {
		cur[key] = "v"
		cur["default"] = "d"
		return cur, nil
	})
	return err
}

// TestSetMappingConcurrent: writers in this process and in others each
// add their own rows; the file stays valid and no row is lost.
func TestSetMappingConcurrent(t *testing.T) {
	// Without categories any category may have a row.
	dir := tree(t, map[string]string{"user.json": strings.Replace(prettyUser, `"categories": ["Network", "Other"],`, "", 1)})
	file := filepath.Join(dir, "user.json")
	o := LoadOptions{ConfigFile: file}
	var want []string
	var procs []*exec.Cmd
	for p := range 3 {
		id := fmt.Sprintf("proc%d", p)
		cmd := exec.Command(os.Args[0], "-test.run=^TestEditHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "TICKETRAY_EDIT_FILE="+file, "TICKETRAY_EDIT_ID="+id)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s: %s", id, out.String())
			}
		})
		procs = append(procs, cmd)
		for i := range 5 {
			want = append(want, fmt.Sprintf("%s-%d", id, i))
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		for i := range 5 {
			want = append(want, fmt.Sprintf("g%d-%d", g, i))
		}
		wg.Go(func() {
			for i := range 5 {
				if err := addRow(o, fmt.Sprintf("g%d-%d", g, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, cmd := range procs {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
	l, err := LoadLayers(o)
	if err != nil {
		t.Fatalf("the file is no longer valid: %v", err)
	}
	got := l.Config.Connections[0].Mappings["category"]
	for _, k := range want {
		if got[k] != "v" {
			t.Errorf("row %s lost", k)
		}
	}
	data, _ := os.ReadFile(file)
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || !bytes.Contains(data, []byte(`"password": "`+secret+`"`)) {
		t.Errorf("file damaged: %v\n%s", err, data)
	}
}

// jiraConn is a valid connection to add.
func jiraConn(name string) connectors.Connection {
	return connectors.Connection{Name: name, Type: "jira", BaseURL: "https://jira.example",
		Credentials: connectors.Credentials{Type: "api_token", Username: "a@b.c", APIToken: "keyring:config.new.apiToken"},
		Options:     map[string]json.RawMessage{"projectKey": json.RawMessage(`"IT"`), "issueType": json.RawMessage(`"Task"`)}}
}

func TestEditConnectionSplice(t *testing.T) {
	compact := `{"version":1,"connections":[{"name":"C","type":"jira","baseUrl":"https://c.example","credentials":{"type":"bearer","token":"env:T"},"options":{"projectKey":"IT","issueType":"Task"}}]}`
	twoCompact := `{"version":1,"connections":[` + c("A", "https://a.example") + `,` + c("B", "https://b.example") + `]}`
	tests := []struct {
		name string
		file string // "" means no user file
		edit ConnectionEdit
		want string // the whole file after the edit
	}{
		{"add to a compact file", compact, ConnectionEdit{Name: "New", Add: ptr(jiraConn("New"))},
			`{"version":1,"connections":[{"name":"C","type":"jira","baseUrl":"https://c.example","credentials":{"type":"bearer","token":"env:T"},"options":{"projectKey":"IT","issueType":"Task"}},{"name":"New","type":"jira","baseUrl":"https://jira.example","credentials":{"type":"api_token","username":"a@b.c","apiToken":"keyring:config.new.apiToken"},"options":{"issueType":"Task","projectKey":"IT"}}]}`},
		{"add creates a missing user file", "", ConnectionEdit{Name: "New", Add: ptr(jiraConn("New"))}, onlyNew},
		{"add where there is no connections member", "{\n  \"version\": 1\n}\n", ConnectionEdit{Name: "New", Add: ptr(jiraConn("New"))}, onlyNew},
		{"update replaces, adds and deletes members", compact, ConnectionEdit{Name: "C", Changes: []FieldChange{
			SetField("https://c2.example", "baseUrl"),
			SetField("Bug", "options", "issueType"),
			SetField("Net", "options", "components2"),
			{Path: []string{"options", "projectKey"}},
			SetField("IT", "options", "projectKey"),
			SetField(5000, "timeoutMs"),
		}},
			`{"version":1,"connections":[{"name":"C","type":"jira","baseUrl":"https://c2.example","credentials":{"type":"bearer","token":"env:T"},"options":{"issueType":"Bug","components2":"Net","projectKey":"IT"},"timeoutMs":5000}]}`},
		{"update makes the objects on a new member's path", `{"version":1,"connections":[{"name":"C","type":"jira","baseUrl":"https://c.example","credentials":{"type":"bearer","token":"env:T"}}]}`,
			ConnectionEdit{Name: "C", Changes: []FieldChange{SetField("IT", "options", "projectKey"), SetField("Task", "options", "issueType")}},
			`{"version":1,"connections":[{"name":"C","type":"jira","baseUrl":"https://c.example","credentials":{"type":"bearer","token":"env:T"},"options":{"projectKey":"IT","issueType":"Task"}}]}`},
		{"remove the first of two", twoCompact, ConnectionEdit{Name: "A", Remove: true},
			`{"version":1,"connections":[` + c("B", "https://b.example") + `]}`},
		{"remove the last of two", twoCompact, ConnectionEdit{Name: "B", Remove: true},
			`{"version":1,"connections":[` + c("A", "https://a.example") + `]}`},
		{"remove the only one", compact, ConnectionEdit{Name: "C", Remove: true}, `{"version":1,"connections":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			if tt.file != "" {
				files["user.json"] = tt.file
			}
			dir := tree(t, files)
			o := opts(dir)
			ch, err := EditConnection(o, tt.edit)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(o.UserFile)
			if string(got) != tt.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, tt.want)
			}
			if !ch.Changed || ch.Created != (tt.file == "") || ch.File != o.UserFile {
				t.Errorf("change %+v", ch)
			}
			if tt.edit.Remove != (ch.After == nil) || (tt.edit.Add == nil) != (ch.Before != nil) {
				t.Errorf("before %v after %v", ch.Before, ch.After)
			}
			if st, _ := os.Stat(o.UserFile); st.Mode().Perm()&0o077 != 0 && tt.file == "" {
				t.Errorf("a new user file has mode %o", st.Mode().Perm())
			}
		})
	}
}

// A multi-line file keeps every byte outside the entry added or changed.
func TestEditConnectionKeepsTheRest(t *testing.T) {
	dir := tree(t, map[string]string{"user.json": prettyUser})
	o := opts(dir)
	if _, err := EditConnection(o, ConnectionEdit{Name: "New", Add: ptr(jiraConn("New"))}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(o.UserFile)
	last := `"mappings": null}`
	head := prettyUser[:strings.Index(prettyUser, last)+len(last)]
	tail := prettyUser[len(head):]
	added := strings.TrimSuffix(strings.TrimPrefix(string(got), head), tail)
	if !strings.HasPrefix(string(got), head) || !strings.HasSuffix(string(got), tail) {
		t.Fatalf("bytes outside the new entry changed:\n%s", got)
	}
	want := `,
    {
      "name": "New",
      "type": "jira",
      "baseUrl": "https://jira.example",
      "credentials": {
        "type": "api_token",
        "username": "a@b.c",
        "apiToken": "keyring:config.new.apiToken"
      },
      "options": {
        "issueType": "Task",
        "projectKey": "IT"
      }
    }`
	if added != want {
		t.Errorf("added:\n%s\nwant:\n%s", added, want)
	}
	// An update of Z touches only its baseUrl's value.
	if _, err := EditConnection(o, ConnectionEdit{Name: "Z", Changes: []FieldChange{SetField("https://z2.example", "baseUrl")}}); err != nil {
		t.Fatal(err)
	}
	got2, _ := os.ReadFile(o.UserFile)
	if string(got2) != strings.Replace(string(got), "https://z.example", "https://z2.example", 1) {
		t.Errorf("update changed more than the value:\n%s", got2)
	}
	if !bytes.Contains(got2, []byte(secret)) {
		t.Error("the literal secret of another connection was touched")
	}
}

func TestEditConnectionRefused(t *testing.T) {
	managedSN := `{"version":1,"connections":[{"name":"SN","type":"servicenow","baseUrl":"https://it.example","credentials":{"type":"basic","username":"u","password":"env:P"}}]}`
	noKey := jiraConn("New")
	delete(noKey.Options, "projectKey")
	literal := jiraConn("New")
	literal.Credentials.APIToken = secret
	tests := []struct {
		name    string
		files   map[string]string
		edit    ConnectionEdit
		is      error
		problem bool
		want    string
	}{
		{"a missing required option", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "New", Add: &noKey},
			nil, true, "user.json:36:18: connections[3].options.projectKey: is required for jira connections"},
		{"a name too long to type", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: strings.Repeat("n", 101), Add: ptr(jiraConn(strings.Repeat("n", 101)))},
			nil, true, "connections[3].name: is 101 characters; at most 100"},
		{"a name with a line break", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "A\nB", Add: ptr(jiraConn("A\nB"))},
			nil, true, "connections[3].name: must not hold control characters"},
		{"a literal secret", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "New", Add: &literal},
			nil, false, "credentials.apiToken: a secret is written only as an env: or keyring: reference"},
		{"a literal secret in an update", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "Z", Changes: []FieldChange{SetField(secret, "credentials", "token")}},
			nil, false, "credentials.token: a secret is written only as an env: or keyring: reference"},
		{"a name the file has", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "Z", Add: ptr(jiraConn("Z"))},
			ErrConnectionExists, false, `"Z" is in `},
		{"an unknown connection", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "Nope", Remove: true},
			ErrUnknownConnection, false, `no such connection "Nope"`},
		{"a bad base URL in an update", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "Z", Changes: []FieldChange{SetField("http://z.example", "baseUrl")}},
			nil, true, "connections[2].baseUrl: must use https"},
		{"a rename", map[string]string{"user.json": prettyUser}, ConnectionEdit{Name: "Z", Changes: []FieldChange{SetField("Y", "name")}},
			nil, false, "cannot be renamed"},
		{"connections locked by IT", map[string]string{"user.json": prettyUser, "managed/config.json": `{"version":1,"locked":["connections"]}`},
			ConnectionEdit{Name: "New", Add: ptr(jiraConn("New"))}, ErrLocked, false, `"connections" is locked by IT in `},
		{"remove under IT's lock", map[string]string{"user.json": prettyUser, "managed/config.json": `{"version":1,"locked":["connections"]}`},
			ConnectionEdit{Name: "Z", Remove: true}, ErrLocked, false, `"connections" is locked by IT in `},
		{"update of a managed entry", map[string]string{"user.json": prettyUser, "managed/config.json": managedSN},
			ConnectionEdit{Name: "SN", Changes: []FieldChange{SetField("https://x.example", "baseUrl")}}, ErrLocked, false, `connection "SN" is defined by the managed file`},
		{"add over a managed entry", map[string]string{"managed/config.json": managedSN},
			ConnectionEdit{Name: "SN", Add: ptr(jiraConn("SN"))}, ErrLocked, false, "whose entry replaces yours whole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, tt.files)
			o := opts(dir)
			assertRefused(t, dir, o.UserFile, func() error {
				_, err := EditConnection(o, tt.edit)
				return err
			}, "", tt.want, tt.is, tt.problem)
		})
	}
}

func TestEditConnectionDryRun(t *testing.T) {
	for _, file := range []string{prettyUser, ""} {
		files := map[string]string{}
		if file != "" {
			files["user.json"] = file
		}
		dir := tree(t, files)
		o := opts(dir)
		ch, err := EditConnection(o, ConnectionEdit{Name: "New", Add: ptr(jiraConn("New")), DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if ch.Changed || ch.After == nil || ch.After.Option("projectKey", "") != "IT" {
			t.Errorf("dry run: %+v", ch)
		}
		got, rerr := os.ReadFile(o.UserFile)
		if file == "" && !errors.Is(rerr, os.ErrNotExist) || file != "" && string(got) != file {
			t.Errorf("a dry run wrote the file (%v)", rerr)
		}
	}
}

func TestConnectionLock(t *testing.T) {
	dir := tree(t, map[string]string{
		"user.json":           prettyUser,
		"managed/config.json": `{"version":1,"connections":[` + c("IT", "https://it.example") + `]}`,
	})
	l, err := LoadLayers(opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	for name, managed := range map[string]bool{"SN": false, "New": false, "IT": true} {
		err := l.ConnectionLock(name)
		var le *LockedError
		if errors.As(err, &le) != managed || managed && !le.Managed {
			t.Errorf("%s: lock %v, want managed %v", name, err, managed)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// assertRefused runs an edit that must be refused: with an error that
// starts with prefix, holds want, is is (when set) and is a located
// *Error exactly when problem; naming no secret and no temporary file;
// leaving file byte for byte as it was (or still absent) and no temporary
// file in dir.
func assertRefused(t *testing.T, dir, file string, edit func() error, prefix, want string, is error, problem bool) {
	t.Helper()
	before, _ := os.ReadFile(file)
	err := edit()
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, want) {
		t.Errorf("error %q, want it to start with %q and contain %q", msg, prefix, want)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %v is not %v", err, is)
	}
	var ce *Error
	if errors.As(err, &ce) != problem {
		t.Errorf("error %v: *Error %v, want %v", err, !problem, problem)
	}
	if strings.Contains(msg, secret) || strings.Contains(msg, ".tmp") {
		t.Errorf("error %q names a secret or the temporary file", msg)
	}
	after, rerr := os.ReadFile(file)
	if before == nil && !errors.Is(rerr, os.ErrNotExist) {
		t.Errorf("a user file was created: %v", rerr)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("the file changed:\n%s", after)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".config-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// onlyNew is a user file holding nothing but jiraConn("New"), as an add
// writes it where there was no file, or no connections member.
const onlyNew = `{
  "version": 1,
  "connections": [
    {
      "name": "New",
      "type": "jira",
      "baseUrl": "https://jira.example",
      "credentials": {
        "type": "api_token",
        "username": "a@b.c",
        "apiToken": "keyring:config.new.apiToken"
      },
      "options": {
        "issueType": "Task",
        "projectKey": "IT"
      }
    }
  ]
}
`
