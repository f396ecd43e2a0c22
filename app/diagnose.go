package app

import (
	"context"
	"time"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
)

// collectTimeout bounds system-information collection, so a slow probe
// never holds up a ticket: whatever arrived in time is attached, marked
// partial.
const collectTimeout = 3 * time.Second

// sysInfoOptions are the collection options the config and environment
// imply: the data dir (generated device id, redaction salt), the app
// version and IT's redaction policy.
func sysInfoOptions(cfg *config.Config, getenv func(string) string) diagnostics.Options {
	dir, err := DataDir(getenv)
	if err != nil {
		dir = ""
	}
	return diagnostics.Options{DataDir: dir, AppVersion: Version, Redaction: cfg.Redaction}
}

func collectSystemInfo(ctx context.Context, o diagnostics.Options) *diagnostics.SystemInfo {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	si := diagnostics.Collect(ctx, o)
	return &si
}

// SystemInfo collects this machine's information as it would be attached
// to a ticket, with the config's redaction policy applied.
func (s *Service) SystemInfo(ctx context.Context) *diagnostics.SystemInfo {
	return collectSystemInfo(ctx, sysInfoOptions(s.Config, s.getenv))
}

// helpDeskURLs are the base URLs of the enabled connections: what
// network-check and time-sync-check reach.
func helpDeskURLs(cfg *config.Config) []string {
	var urls []string
	seen := map[string]bool{}
	for _, c := range cfg.Enabled() {
		if c.BaseURL != "" && !seen[c.BaseURL] {
			seen[c.BaseURL] = true
			urls = append(urls, c.BaseURL)
		}
	}
	return urls
}

// catalog is every skill that may run: the built-ins and the config's.
func catalog(cfg *config.Config) (*diagnostics.Catalog, error) {
	cat, err := diagnostics.NewCatalog(cfg.Skills)
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Path: "skills", Msg: err.Error()}}}
	}
	return cat, nil
}

// ticketSession converts a skills session into the ticket's form.
func ticketSession(s diagnostics.Session) *connectors.TroubleshootingSession {
	return &connectors.TroubleshootingSession{
		StartTime:       s.StartTime,
		EndTime:         s.EndTime,
		DurationMs:      s.DurationMs,
		StepsAttempted:  s.StepsAttempted,
		StepsSuccessful: s.StepsSuccessful,
	}
}

// SuggestedSkills are the skills the report window offers to run before a
// ticket is sent: the read-only checks, which change nothing and ask for
// no confirmation.
func (s *Service) SuggestedSkills() ([]*diagnostics.Skill, error) {
	cat, err := catalog(s.Config)
	if err != nil {
		return nil, err
	}
	return cat.ReadOnly(), nil
}

// RunSkills runs skills with the config's help desk URLs, telling onResult
// (if set) each result as it ends, and returns the results with the
// troubleshooting session to attach to a ticket.
func (s *Service) RunSkills(ctx context.Context, skills []*diagnostics.Skill, onResult func(i int, r diagnostics.SkillResult)) ([]diagnostics.SkillResult, *connectors.TroubleshootingSession) {
	host := diagnostics.NewHost(helpDeskURLs(s.Config))
	results, sess := diagnostics.RunAll(ctx, host, skills, diagnostics.RunOptions{OnResult: onResult})
	return results, ticketSession(sess)
}

// Diagnose collects this machine's system information (with the top
// processes when top > 0) and runs the read-only checks at once, as
// `ticketray diagnose` shows them; nothing is queued or changed.
func Diagnose(ctx context.Context, cfg *config.Config, getenv func(string) string, top int) (*diagnostics.SystemInfo, []diagnostics.SkillResult, *connectors.TroubleshootingSession, error) {
	cat, err := catalog(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	o := sysInfoOptions(cfg, getenv)
	o.TopProcesses = top
	// System information and the checks are independent: run them at once.
	infoc := make(chan *diagnostics.SystemInfo, 1)
	go func() { infoc <- collectSystemInfo(ctx, o) }()
	results, sess := diagnostics.RunAll(ctx, diagnostics.NewHost(helpDeskURLs(cfg)), cat.ReadOnly(), diagnostics.RunOptions{})
	return <-infoc, results, ticketSession(sess), nil
}
