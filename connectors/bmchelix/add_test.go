package bmchelix_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/bmchelix/bmcfake"
	"github.com/ticketray/ticketray/connectors/conformance"
)

func TestAdd(t *testing.T) {
	conformance.RunAdd(t, func(t *testing.T) conformance.AddTarget { return addTarget(startFake(t)) })
}

// addTarget is RunAdd's view of a fake: the incident's work info notes
// and the files in its entries.
func addTarget(f *bmcfake.Fake) conformance.AddTarget {
	return conformance.AddTarget{
		Target:    target(f),
		AddMethod: http.MethodPost,
		AddPath:   workLogPath,
		Comments: func(t *testing.T, r connectors.Remote) []string {
			var out []string
			for _, w := range f.WorkLogs(r.ID) {
				s, _ := w.Values["Detailed Description"].(string)
				out = append(out, s)
			}
			return out
		},
		Files: func(t *testing.T, r connectors.Remote) int {
			n := 0
			for _, w := range f.WorkLogs(r.ID) {
				n += len(w.Files)
			}
			return n
		},
	}
}

func file(name string) connectors.Attachment {
	return connectors.Attachment{Filename: name, ContentType: "text/plain", SizeBytes: 2, Data: []byte("hi")}
}

func newAddition(files ...connectors.Attachment) *connectors.Addition {
	return &connectors.Addition{Key: connectors.DeliveryKey(connectors.NewKey(), "add"), Text: "Still broken.\nSince 10:05.",
		Author: connectors.User{Name: "Alice Example", Email: "alice@example.com"}, Attachments: files}
}

// TestAddOneEntryWithFiles: the text and the first three files are one
// public work info entry; a fourth file follows in an entry of its own.
func TestAddOneEntryWithFiles(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	r := conformance.MustCreate(t, c, conformance.Ticket())
	before := len(f.WorkLogs(r.ID))
	a := newAddition(file("a.txt"), file("b.txt"), file("c.txt"), file("d.txt"))
	if err := c.(connectors.Adder).Add(context.Background(), r, a); err != nil {
		t.Fatalf("Add: %v", err)
	}
	logs := f.WorkLogs(r.ID)[before:]
	if len(logs) != 2 {
		t.Fatalf("%d work info entries added, want 2", len(logs))
	}
	v := logs[0].Values
	want := "Still broken.\nSince 10:05.\n\nAdded by Alice Example <alice@example.com> with Ticketray\n" + connectors.AdditionMarker(a.Key)
	if v["Detailed Description"] != want {
		t.Errorf("Detailed Description = %q, want %q", v["Detailed Description"], want)
	}
	for k, w := range map[string]string{"Description": "Still broken. Since 10:05.", "View Access": "Public",
		"Work Log Type": "Customer Inbound", "Secure Work Log": "No"} {
		if v[k] != w {
			t.Errorf("%s = %v, want %q", k, v[k], w)
		}
	}
	if n := len(logs[0].Files); n != 3 {
		t.Errorf("the comment's entry carries %d files, want 3", n)
	}
	if n := len(logs[1].Files); n != 1 || logs[1].Files[0].Name != "d.txt" {
		t.Errorf("the second entry carries %v, want d.txt", logs[1].Files)
	}
}

// TestFindAdditionOnlyOwnWorkInfo: the marker in another incident's work
// info, or quoted inside a line, does not count; on a line of its own in
// any of the incident's entries (internal ones too) it does.
func TestFindAdditionOnlyOwnWorkInfo(t *testing.T) {
	f := startFake(t)
	c := conformance.MustBuild(t, connection(f.URL()))
	r := conformance.MustCreate(t, c, conformance.Ticket())
	other := conformance.MustCreate(t, c, conformance.Ticket())
	key := connectors.DeliveryKey(connectors.NewKey(), "add")
	marker := connectors.AdditionMarker(key)
	f.AddWorkInfo(other.ID, "agent", "Public", "x\n"+marker)
	f.AddWorkInfo(r.ID, "agent", "Public", "did you mean "+marker+"?")
	ad := c.(connectors.Adder)
	if found, err := ad.FindAddition(context.Background(), r, key); err != nil || found {
		t.Fatalf("FindAddition = %v, %v, want false", found, err)
	}
	f.AddWorkInfo(r.ID, "agent", "Internal", "x\r\n"+marker)
	if found, err := ad.FindAddition(context.Background(), r, key); err != nil || !found {
		t.Fatalf("FindAddition = %v, %v, want true", found, err)
	}
}

func TestAddRefusesBadInput(t *testing.T) {
	f := startFake(t)
	ad := conformance.MustBuild(t, connection(f.URL())).(connectors.Adder)
	r := connectors.Remote{ID: "INC000000000001"}
	for name, a := range map[string]*connectors.Addition{
		"empty":     {Key: connectors.DeliveryKey("k", "c")},
		"bad key":   {Key: "a b", Text: "x"},
		"bad name":  newAddition(file("../x")),
		"not found": newAddition(),
	} {
		if err := ad.Add(context.Background(), r, a); connectors.ClassOf(err) != connectors.Permanent {
			t.Errorf("%s: Add = %v, want a permanent error", name, err)
		}
	}
	if _, err := ad.FindAddition(context.Background(), connectors.Remote{ID: "12"}, connectors.DeliveryKey("k", "c")); connectors.ClassOf(err) != connectors.Permanent {
		t.Errorf("FindAddition of a bad id = %v, want a permanent error", err)
	}
	for _, req := range f.Requests() {
		if req.Method == http.MethodPost && strings.HasPrefix(req.Path, workLogPath) {
			t.Errorf("a work info entry was posted: %s %s", req.Method, req.Path)
		}
	}
}
