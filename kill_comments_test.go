package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/fake"
	"github.com/ticketray/ticketray/connectors/servicenow/snfake"
)

// TestCommentsSurviveSIGKILL is the SIGKILL harness for the update job:
// tickets are delivered, a comment is added to each, and `ticketray drain`
// is killed at random points while the comments are in flight (the fake
// answers each after 40 ms); in the end every incident holds its comment
// exactly once.
func TestCommentsSurviveSIGKILL(t *testing.T) {
	n, rounds := 20, 6
	if testing.Short() {
		n, rounds = 6, 3
	}
	sn := snfake.Start()
	defer sn.Close()
	cfgPath, db, env, _ := killRig(t, n, connectors.User{ID: "alice", Email: snfake.AliceEmail}, map[string]any{
		"name": "ServiceNow", "type": "servicenow", "baseUrl": sn.URL(), "timeoutMs": 5000,
		"credentials": map[string]any{"type": "basic", "username": snfake.Username, "password": snfake.Password},
		"options":     map[string]any{"rateLimitPerSecond": 1000},
	})
	args := []string{"--config", cfgPath, "--db", db, "drain", "--timeout", "60s"}
	if r := run(t, env, args...); r.code != 0 {
		t.Fatalf("first drain: exit %d\n%s", r.code, r.stderr)
	}
	// One comment per ticket, through the app core.
	svc, err := app.Open(context.Background(), app.Options{ConfigPath: cfgPath, DBPath: db, Getenv: func(k string) string {
		return map[string]string{app.EnvPassphrase: killPass}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := svc.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	text := map[string]string{} // incident sys_id → its comment
	for i, e := range entries {
		c := fmt.Sprintf("Still broken, comment %d.", i)
		if _, err := svc.Comment(context.Background(), e.ID, c, nil, connectors.User{ID: "alice"}); err != nil {
			t.Fatal(err)
		}
		text[e.Deliveries[0].RemoteID] = c
	}
	svc.Close()
	sn.Faults.Always("PATCH", "/api/now/table/incident/", fake.Fault{Kind: fake.Delay, Wait: 40 * time.Millisecond})
	// commented counts the incidents holding their comment.
	commented := func() int {
		m := 0
		for id, c := range text {
			for _, got := range sn.Comments(id) {
				if strings.Contains(got, c) {
					m++
				}
			}
		}
		return m
	}
	kills := killDrains(t, env, args, rounds, 5, 1, n, commented)
	if r := run(t, env, args...); r.code != 0 {
		t.Fatalf("final drain: exit %d\n%s", r.code, r.stderr)
	}
	if kills == 0 {
		t.Fatal("no drain was killed")
	}
	for id, c := range text {
		m := 0
		for _, got := range sn.Comments(id) {
			if strings.Contains(got, c) {
				m++
			}
		}
		if m != 1 {
			t.Errorf("incident %s holds its comment %d times, want exactly 1", id, m)
		}
	}
}
