package main

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrayBrokenConfig: the user's config file has a JSON syntax error.
// The tray app still starts, its report window says what is wrong and
// that reports are still kept, and a report typed and submitted there as
// a user would is queued.
func TestTrayBrokenConfig(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY; run under ./.ci/session (xvfb-run)")
	}
	dir := t.TempDir()
	env := environ(t, map[string]string{
		"OFFLINE_QUEUE_DB_PATH":        filepath.Join(dir, "queue.db"),
		"OFFLINE_QUEUE_ENCRYPTION_KEY": "broken config test",
		"TICKETRAY_MANAGED_DIR":        filepath.Join(dir, "managed"),
	})
	// No --config: the layered config, as a desktop session starts it.
	userFile := filepath.Join(envValue(env, "XDG_CONFIG_HOME"), "ticketray", "config.json")
	if err := os.MkdirAll(filepath.Dir(userFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(userFile, []byte("{\"version\": 1,\n  \"categories\": [\"Network\",]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startTray(t, append(env, "TICKETRAY_OPEN=report"))
	if log := strings.Join(p.stderr, "\n"); !strings.Contains(log, userFile+":2:") {
		t.Errorf("stderr does not locate the syntax error in %s:\n%s", userFile, log)
	}

	const title = "Report an issue — Ticketray"
	var g xGeometry
	waitUntil(t, "the report window", 30*time.Second, func() bool {
		var err error
		g, err = windowGeometry(t, title)
		return err == nil
	}, func() string { return xWindows(t) + "\nstderr:\n" + strings.Join(p.stderr, "\n") })
	// The line sits above the form, in the theme's warning orange.
	img := screenshotAs(t, "report-config-problem.png")
	if n := warningPixels(img, image.Rect(g.X, g.Y, g.X+g.W, g.Y+80)); n < 200 {
		t.Errorf("the top of the report window has %d warning-coloured pixels: no configuration problem line", n)
	}

	// As a user: the summary has the focus; type, then click Submit
	// (bottom right).
	x := dialX(t)
	x.moveTo(t, g.X+g.W/2, g.Y+g.H/2) // the keyboard follows the pointer without a window manager
	const summary = "VPN drops every hour"
	x.typeText(t, summary)
	x.click(t, g.X+g.W-38, g.Y+g.H-22)

	var entries []struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	}
	var last string
	waitUntil(t, "the ticket in the queue", 20*time.Second, func() bool {
		r := run(t, env, "queue", "list", "--json")
		last = r.stdout + r.stderr
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &entries) == nil && len(entries) == 1
	}, func() string { return last + "\ntray stderr:\n" + strings.Join(p.stderr, "\n") })
	if entries[0].Summary != summary {
		t.Errorf("queued summary %q, want %q", entries[0].Summary, summary)
	}
	img = screenshotAs(t, "report-config-problem-saved.png")
	// The Submit confirmation now sits above it: look at the top third.
	if n := warningPixels(img, image.Rect(g.X, g.Y, g.X+g.W, g.Y+g.H/3)); n < 200 {
		t.Errorf("after the save, the configuration problem line is gone (%d warning-coloured pixels)", n)
	}
	p.stop(t)
}

// warningPixels counts the pixels in r of about the dark theme's warning
// colour (#ff9800, anti-aliased text included).
func warningPixels(img image.Image, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			cr, cg, cb = cr>>8, cg>>8, cb>>8
			if cr > 180 && cg > 90 && cg < 180 && cb < 60 {
				n++
			}
		}
	}
	return n
}
