package webhooks_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

var fuzzKinds = []webhooks.Kind{webhooks.KindJira, webhooks.KindZendesk, webhooks.KindServiceNow}

// FuzzParse feeds arbitrary bodies to every parser. `go test` runs only the
// seeds (every testdata payload); `go test -fuzz FuzzParse
// ./connectors/webhooks/` explores. A parser must not panic, must fail only
// with its sentinel errors, and an event it returns names a ticket.
func FuzzParse(f *testing.F) {
	for i, dir := range []string{"jira", "zendesk", "servicenow"} {
		for _, file := range fixtures(f, dir+"/*.json") {
			f.Add(uint8(i), readFixture(f, filepath.Join(dir, filepath.Base(file))))
		}
	}
	f.Add(uint8(0), []byte(`{"issue":{"id":1,"fields":{"assignee":null,"labels":[1]},"key":""},"comment":{"body":{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}}}`))
	f.Add(uint8(1), []byte(`{"type":"zen:event-type:ticket.comment_added","subject":"zen:ticket:","detail":{"id":5},"event":{"comment":null}}`))
	f.Add(uint8(2), []byte(`{"result":{"number":{"value":1},"assigned_to":{"link":"x"}}}`))
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		ev, err := webhooks.Parse(kind, body)
		if err != nil {
			if !errors.Is(err, webhooks.ErrMalformed) && !errors.Is(err, webhooks.ErrNotTicket) {
				t.Fatalf("Parse(%s) error %v wraps no sentinel", kind, err)
			}
			if len(body) > 8 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("the error quotes the body: %v", err)
			}
			return
		}
		if ev.RemoteID == "" && ev.RemoteKey == "" {
			t.Fatalf("Parse(%s) = %+v: names no ticket", kind, ev)
		}
		if ev.Kind != kind || ev.Action == "" {
			t.Fatalf("Parse(%s) = kind %q, action %q", kind, ev.Kind, ev.Action)
		}
	})
}
