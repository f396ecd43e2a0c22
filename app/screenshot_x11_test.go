//go:build linux || freebsd || openbsd || netbsd

package app

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/connectors"
)

var screenshotNameRE = regexp.MustCompile(`^screenshot-\d{4}-\d{2}-\d{2}-\d{4}\.png$`)

// xDisplay connects to the X display the test runs on. Under ./.ci/session
// (TICKETRAY_TEST_SECRET_SERVICE=1) there is one, so a missing display
// fails the test instead of skipping it. The connection stays open for the
// test: the windows it shows live as long as it does.
func xDisplay(t *testing.T) *xgb.Conn {
	t.Helper()
	fail := needDisplay(t)
	c, err := connectX()
	if err != nil {
		fail("X display %q: %v", os.Getenv("DISPLAY"), err)
	}
	t.Cleanup(c.Close)
	return c
}

// needDisplay skips the test without an X display, or fails it under
// ./.ci/session; it returns how to give up on the display later.
func needDisplay(t *testing.T) func(string, ...any) {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("TICKETRAY_TEST_SECRET_SERVICE") == "1" {
		fail = t.Fatalf
	}
	if os.Getenv("DISPLAY") == "" {
		fail("no X display (DISPLAY is not set); run under ./.ci/session")
	}
	return fail
}

// TestScreenshotBackToBack captures again and again with no other client
// on the display, as under Xvfb without a desktop: each capture's last
// connection leaving makes the server reset, which must not fail the next.
func TestScreenshotBackToBack(t *testing.T) {
	needDisplay(t)
	for i := range 8 {
		if _, err := grabScreens(); err != nil {
			t.Fatalf("capture %d: %v", i+1, err)
		}
	}
}

// showPatch maps a borderless window of one colour at r on the root
// window, so a capture has something known to find.
func showPatch(t *testing.T, c *xgb.Conn, r image.Rectangle, rgb uint32) {
	t.Helper()
	screen := xproto.Setup(c).DefaultScreen(c)
	wid, err := xproto.NewWindowId(c)
	if err != nil {
		t.Fatal(err)
	}
	// Override-redirect: no window manager moves or decorates it.
	err = xproto.CreateWindowChecked(c, screen.RootDepth, wid, screen.Root,
		int16(r.Min.X), int16(r.Min.Y), uint16(r.Dx()), uint16(r.Dy()), 0,
		xproto.WindowClassInputOutput, screen.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect, []uint32{rgb, 1}).Check()
	if err != nil {
		t.Fatalf("creating a window: %v", err)
	}
	// Checked: the reply comes after the server has mapped the window and
	// painted its background.
	if err := xproto.MapWindowChecked(c, wid).Check(); err != nil {
		t.Fatalf("mapping the window: %v", err)
	}
	t.Cleanup(func() { xproto.DestroyWindow(c, wid) })
}

// TestScreenshotCapturesTheXDisplay captures the real (virtual) screen
// with a known patch on it.
func TestScreenshotCapturesTheXDisplay(t *testing.T) {
	c := xDisplay(t)
	root := xproto.Setup(c).DefaultScreen(c)
	patch := image.Rect(100, 120, 300, 270)
	showPatch(t, c, patch, 0xff8000) // orange, 24-bit TrueColor

	before := time.Now()
	a, err := CaptureScreenshot(context.Background())
	took := time.Since(before)
	if err != nil {
		t.Fatalf("CaptureScreenshot: %v", err)
	}
	t.Logf("captured %dx%d in %v (%s)", root.WidthInPixels, root.HeightInPixels, took, humanSize(a.SizeBytes))

	if !screenshotNameRE.MatchString(a.Filename) {
		t.Errorf("filename %q, want screenshot-YYYY-MM-DD-HHMM.png", a.Filename)
	}
	if a.Filename != screenshotName(before) && a.Filename != screenshotName(time.Now()) {
		t.Errorf("filename %q is not the time of capture (%s)", a.Filename, screenshotName(before))
	}
	if a.ContentType != "image/png" || a.SizeBytes != int64(len(a.Data)) || a.SizeBytes > connectors.MaxAttachmentBytes {
		t.Errorf("attachment %s, %s, size %d for %d bytes of data", a.Filename, a.ContentType, a.SizeBytes, len(a.Data))
	}
	img := decodePNG(t, a.Data)
	if got, want := img.Bounds().Size(), image.Pt(int(root.WidthInPixels), int(root.HeightInPixels)); got != want {
		t.Fatalf("image is %v, want the screen's %v", got, want)
	}
	orange := color.RGBA{0xff, 0x80, 0x00, 0xff}
	for _, p := range []image.Point{patch.Min, patch.Max.Sub(image.Pt(1, 1)), {200, 200}} {
		if got := color.RGBAModel.Convert(img.At(p.X, p.Y)); got != orange {
			t.Errorf("pixel %v = %v, want the patch's %v", p, got, orange)
		}
	}
	for _, p := range []image.Point{patch.Min.Sub(image.Pt(1, 1)), {patch.Max.X, patch.Min.Y}, {1000, 900}} {
		if got := color.RGBAModel.Convert(img.At(p.X, p.Y)); got == orange {
			t.Errorf("pixel %v outside the patch is orange too", p)
		}
	}
}

// TestReportScreenshotAttaches: report --screenshot stores the screen's
// PNG with the ticket in the queue.
func TestReportScreenshotAttaches(t *testing.T) {
	c := xDisplay(t)
	showPatch(t, c, image.Rect(0, 0, 64, 64), 0x00ff00)
	h := newHarness(t)
	h.env["DISPLAY"] = os.Getenv("DISPLAY")
	r := h.mustRun("report", "--summary", "printer jams", "--screenshot", "--no-system-info")
	if !regexp.MustCompile(`screenshot: screenshot-[-0-9]+\.png, 1280×1024, [0-9.]+ KB`).MatchString(r.stderr) {
		t.Errorf("stderr %q does not say what was attached", r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	var sj entryJSON
	if err := json.Unmarshal([]byte(h.mustRun("queue", "show", id, "--json").stdout), &sj); err != nil {
		t.Fatal(err)
	}
	if sj.Ticket == nil || len(sj.Ticket.Attachments) != 1 {
		t.Fatalf("queued ticket %+v, want one attachment", sj.Ticket)
	}
	a := sj.Ticket.Attachments[0]
	if !screenshotNameRE.MatchString(a.Filename) || a.ContentType != "image/png" || a.SizeBytes <= 0 || a.SizeBytes > connectors.MaxAttachmentBytes {
		t.Errorf("queued attachment %+v", a)
	}

	// The queue holds the picture itself: the screen with the patch.
	svc, err := Open(context.Background(), Options{Getenv: func(k string) string { return h.env[k] }, Warn: func(config.Problem) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	it, err := svc.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var tk connectors.Ticket
	if err := json.Unmarshal(it.Payload, &tk); err != nil || len(tk.Attachments) != 1 {
		t.Fatalf("stored ticket: %v, %d attachments", err, len(tk.Attachments))
	}
	img := decodePNG(t, tk.Attachments[0].Data)
	if got, want := color.RGBAModel.Convert(img.At(10, 10)), (color.RGBA{0, 0xff, 0, 0xff}); img.Bounds().Dx() != 1280 || got != want {
		t.Errorf("stored screenshot is %v with %v at (10,10), want 1280 wide with the patch's %v", img.Bounds(), got, want)
	}
}
