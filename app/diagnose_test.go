package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/diagnostics"
)

func TestRunSkillsReportsEachResult(t *testing.T) {
	svc := &Service{Config: config.Default(), getenv: func(string) string { return "" }}
	skills, err := svc.SuggestedSkills()
	if err != nil {
		t.Fatal(err)
	}
	var disk []*diagnostics.Skill
	for _, s := range skills {
		if s.Changes {
			t.Errorf("suggested skill %s changes the machine", s.ID)
		}
		if s.ID == "disk-space" {
			disk = append(disk, s)
		}
	}
	if len(disk) != 1 {
		t.Fatalf("disk-space is not suggested: %d skills", len(skills))
	}
	var seen []string
	var mu sync.Mutex
	results, sess := svc.RunSkills(context.Background(), disk, func(i int, r diagnostics.SkillResult) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%d %s", i, r.SkillID))
		mu.Unlock()
	})
	if len(results) != 1 || results[0].SkillID != "disk-space" || strings.Join(seen, ",") != "0 disk-space" || sess == nil || sess.StepsAttempted != 1 {
		t.Errorf("results %+v, seen %v, session %+v", results, seen, sess)
	}
}
