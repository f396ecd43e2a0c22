package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

const reportUsage = `Usage: ticketray report --summary S [flags]

Build a ticket, store it encrypted in the queue and print its id. The
ticket is on disk before this returns; it is sent when a connection is
reachable ('ticketray drain', or the tray app).

Flags:
  --summary S            what is wrong, in one line (required, at most 160 characters)
  --description D        details; '-' reads them from standard input
  --description-file F   read the details from file F
  --category C           one of the configured categories
  --priority P           low, medium (default), high or critical
  --user-id ID           reporter id   (default: the OS user name)
  --user-name N          reporter name (default: the OS account's full name)
  --user-email E         reporter email
  --skills a,b           run these troubleshooting skills first and attach their
                         results and the session (ids: 'ticketray skills list');
                         default: none are run
  --no-skills            run no skills (the default)
  --yes                  confirm skills in --skills that ask for confirmation;
                         without it they are attached as skipped
  --no-system-info       do not attach system information
  --attach FILE          attach a file (repeatable; at most 5, 10 MiB each)
  --screenshot           attach a screenshot of all screens (PNG, shrunk to fit
                         10 MiB); IT can forbid it (policy.allowScreenshots)
  --json                 print {"id", "idempotencyKey", "connections"} as JSON
`

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (c *cli) report(args []string) error {
	fs := c.flags("report", func() string { return reportUsage })
	var (
		d                   Draft
		userID, name, email string
		skills              string
		noSkills, noSysInfo bool
		confirmed           bool
		asJSON              bool
		attach              stringList
		descFile            string
		withScreenshot      bool
	)
	fs.StringVar(&d.Summary, "summary", "", "")
	fs.StringVar(&d.Description, "description", "", "")
	fs.StringVar(&descFile, "description-file", "", "")
	fs.StringVar(&d.Category, "category", "", "")
	fs.StringVar(&d.Priority, "priority", "", "")
	fs.StringVar(&userID, "user-id", "", "")
	fs.StringVar(&name, "user-name", "", "")
	fs.StringVar(&email, "user-email", "", "")
	fs.StringVar(&skills, "skills", "", "")
	fs.BoolVar(&noSkills, "no-skills", false, "")
	fs.BoolVar(&confirmed, "yes", false, "")
	fs.BoolVar(&noSysInfo, "no-system-info", false, "")
	fs.BoolVar(&asJSON, "json", false, "")
	fs.Var(&attach, "attach", "")
	fs.BoolVar(&withScreenshot, "screenshot", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("report takes no arguments (got %q); put the text in --summary", pos[0])
	}
	if err := c.readDescription(&d.Description, descFile); err != nil {
		return err
	}
	if skills != "" && noSkills {
		return usagef("--skills and --no-skills cannot be used together")
	}
	def := DefaultUser()
	d.User = connectors.User{ID: or(userID, def.ID), Name: or(name, def.Name), Email: email}
	for _, path := range attach {
		a, err := readAttachment(path)
		if err != nil {
			return usagef("--attach: %v", err)
		}
		d.Attachments = append(d.Attachments, a)
	}

	// The config in force, even when the files are broken (the last good
	// one, else none): a report never depends on config.
	svc, err := c.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	var toRun []*diagnostics.Skill
	if skills != "" {
		// Resolve the ids before anything runs or is stored.
		cat, err := catalog(svc.Config)
		if err != nil {
			return err
		}
		if toRun, err = cat.Resolve(strings.Split(skills, ",")); err != nil {
			return usagef("--skills: %v", err)
		}
	}
	if d.Category != "" && len(svc.Config.Categories) > 0 && !containsFold(svc.Config.Categories, d.Category) {
		return usagef("--category %q is not one of the configured categories: %s", d.Category, strings.Join(svc.Config.Categories, ", "))
	}
	if withScreenshot {
		// Before the skills run: the screen as the user saw it.
		a, err := c.screenshot(svc)
		if err != nil {
			return err
		}
		d.Attachments = append(d.Attachments, a)
	}
	if len(toRun) > 0 {
		host := diagnostics.NewHost(helpDeskURLs(svc.Config))
		results, sess := diagnostics.RunAll(c.ctx, host, toRun, diagnostics.RunOptions{Confirmed: confirmed})
		d.SkillResults, d.Session = results, ticketSession(sess)
		for _, r := range results {
			fmt.Fprintf(c.env.Stderr, "skill %s: %s\n", r.SkillID, r.Status)
		}
	}
	if !noSysInfo {
		d.SystemInfo = svc.SystemInfo(c.ctx)
	}
	r, err := svc.Submit(c.ctx, d)
	if err != nil {
		if connectors.IsValidation(err) {
			return err
		}
		if errors.Is(err, queue.ErrDiskFull) {
			return fmt.Errorf("the ticket was NOT queued: the disk is full (free some space on the disk that holds %s, then report again; earlier tickets are safe): %w", svc.Store.Path(), err)
		}
		return fmt.Errorf("the ticket was NOT queued: %w", err)
	}
	if asJSON {
		return json.NewEncoder(c.env.Stdout).Encode(r)
	}
	fmt.Fprintln(c.env.Stdout, r.ID)
	fmt.Fprintln(c.env.Stderr, savedLine(r.Connections, svc.Loaded.Misconfigured()))
	return nil
}

// screenshot captures the screens for report --screenshot, unless IT's
// policy forbids it, and says what it attached.
func (c *cli) screenshot(svc *Service) (connectors.Attachment, error) {
	if !svc.ScreenshotsAllowed() {
		return connectors.Attachment{}, usagef("--screenshot: your IT department does not allow screenshots (policy.allowScreenshots is false); describe what the screen shows in --description instead")
	}
	s, err := captureScreenshot(c.ctx, runtime.GOOS, c.env.Getenv, time.Now(), grabScreens, attachmentFit)
	if err != nil {
		return connectors.Attachment{}, fmt.Errorf("--screenshot: %w; the ticket was NOT queued (report again without --screenshot)", err)
	}
	line := fmt.Sprintf("screenshot: %s, %d×%d, %s", s.Attachment.Filename, s.Size.X, s.Size.Y, humanSize(s.Attachment.SizeBytes))
	if s.Downscaled() {
		line += fmt.Sprintf(" (shrunk from %d×%d to fit the %s limit)", s.Screen.X, s.Screen.Y, humanSize(connectors.MaxAttachmentBytes))
	}
	fmt.Fprintln(c.env.Stderr, line)
	return s.Attachment, nil
}

// readDescription resolves --description - (standard input) and
// --description-file FILE into the description text.
func (c *cli) readDescription(desc *string, file string) error {
	var (
		r    io.Reader
		from string
	)
	switch {
	case file != "" && *desc != "":
		return usagef("--description and --description-file cannot be used together")
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return usagef("--description-file: %v", err)
		}
		defer f.Close()
		r, from = f, file
	case *desc == "-":
		if c.env.Stdin == nil {
			return usagef("--description -: there is no standard input to read")
		}
		r, from = c.env.Stdin, "standard input"
	default:
		return nil
	}
	// Read one byte past what a ticket may hold (in UTF-8, at most 4 bytes
	// a character) so an oversized text is refused, not truncated.
	limit := int64(4*connectors.MaxDescription) + 1
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return usagef("--description: reading %s: %v", from, err)
	}
	if int64(len(data)) >= limit {
		return usagef("--description: %s is larger than %s; a description holds at most %d characters", from, humanSize(limit-1), connectors.MaxDescription)
	}
	*desc = strings.TrimRight(string(data), "\r\n")
	return nil
}

// humanSize is a byte count for people: "512 bytes", "1.5 KB", "10.5 MB"
// (units of 1024, as the limits are set).
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return Plural(int(n), "byte")
	}
	v, suffix := float64(n)/unit, "KB"
	for _, s := range []string{"MB", "GB", "TB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v), "0"), ".") + " " + suffix
}

func readAttachment(path string) (connectors.Attachment, error) {
	st, err := os.Stat(path)
	if err != nil {
		return connectors.Attachment{}, err
	}
	if !st.Mode().IsRegular() {
		return connectors.Attachment{}, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > connectors.MaxAttachmentBytes {
		return connectors.Attachment{}, fmt.Errorf("%s is %s; the limit is %s", path, humanSize(st.Size()), humanSize(connectors.MaxAttachmentBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return connectors.Attachment{}, err
	}
	ct := mime.TypeByExtension(filepath.Ext(path))
	if ct == "" {
		ct = http.DetectContentType(data)
	}
	return connectors.Attachment{Filename: filepath.Base(path), ContentType: ct, SizeBytes: int64(len(data)), Data: data}, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// savedLine tells the reporter where a saved ticket goes: the connections
// that will send it, and those that wait for IT to fix their config.
func savedLine(conns, misconfigured []string) string {
	if len(conns) == 0 {
		return "Saved. No connection is configured yet, so it waits in the queue."
	}
	var ok, wait []string
	for _, c := range conns {
		if slices.Contains(misconfigured, c) {
			wait = append(wait, c)
		} else {
			ok = append(ok, c)
		}
	}
	line := "Saved"
	if len(ok) > 0 {
		line += " — will be sent to " + strings.Join(ok, ", ") + " when online"
	}
	if len(wait) > 0 {
		line += "; " + strings.Join(wait, ", ") + " waits until IT fixes its configuration (see 'ticketray connections list')"
	}
	return line + "."
}
