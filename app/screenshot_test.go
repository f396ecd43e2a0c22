package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketray/ticketray/app/config"
)

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

// noise is incompressible: as a PNG it is about 3 bytes a pixel.
func noise(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	return img
}

// stripes compress well, and better with more effort than BestSpeed.
func stripes(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{byte(x * 7 % 251), byte(y * 13 % 241), byte((x ^ y) % 199), 0xff})
		}
	}
	return img
}

func TestScreenshotEncodeFitsTheLimit(t *testing.T) {
	str := stripes(400, 300)
	fast, err := encodePNG(str, png.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	better, err := encodePNG(str, png.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	if len(better) >= len(fast) {
		t.Fatalf("default compression (%d bytes) is no smaller than BestSpeed (%d): the re-encode case tests nothing", len(better), len(fast))
	}
	// Small images and limits keep this quick under -race; the sizes
	// scale as for real screens (noise: ~3 bytes a pixel).
	for _, tc := range []struct {
		name     string
		img      image.Image
		fit      screenshotFit
		wantSize image.Point // zero: smaller than the image, same shape
		wantErr  string
	}{
		{"fits as it is", str, screenshotFit{len(fast), 64}, image.Pt(400, 300), ""},
		{"fits once re-encoded", str, screenshotFit{(len(fast) + len(better)) / 2, 64}, image.Pt(400, 300), ""},
		{"shrunk to fit", noise(400, 300), screenshotFit{120 << 10, 64}, image.Point{}, ""},
		{"two wide screens shrunk to fit", noise(640, 180), screenshotFit{80 << 10, 64}, image.Point{}, ""},
		{"shrunk to the narrowest", noise(400, 300), screenshotFit{60 << 10, 160}, image.Pt(160, 120), ""},
		{"too big even when narrowest", noise(400, 300), screenshotFit{10 << 10, 160}, image.Point{}, "even at 160×120 pixels; the limit for an attachment is 10 KB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, size, err := tc.fit.encode(tc.img)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > tc.fit.limit {
				t.Errorf("PNG is %d bytes, over the limit of %d", len(data), tc.fit.limit)
			}
			got := decodePNG(t, data).Bounds().Size()
			if got != size {
				t.Errorf("reported size %v, PNG is %v", size, got)
			}
			full := tc.img.Bounds().Size()
			if tc.wantSize != (image.Point{}) {
				if got != tc.wantSize {
					t.Errorf("size %v, want %v", got, tc.wantSize)
				}
				return
			}
			if got.X >= full.X || got.X < tc.fit.minWidth {
				t.Errorf("width %d, want less than %d and at least %d", got.X, full.X, tc.fit.minWidth)
			}
			if want := full.Y * got.X / full.X; got.Y < want-1 || got.Y > want+1 {
				t.Errorf("%v is not the shape of %v", got, full)
			}
		})
	}
}

func TestScreenshotProblem(t *testing.T) {
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string // "": no problem
	}{
		{"linux", nil, "no screen to capture: DISPLAY is not set"},
		{"freebsd", nil, "no screen to capture: DISPLAY is not set"},
		{"linux", map[string]string{"DISPLAY": ":0"}, ""},
		{"linux", map[string]string{"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, ""},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "this Wayland session has no X display"},
		{"linux", map[string]string{"XDG_SESSION_TYPE": "wayland"}, "this Wayland session has no X display"},
		{"windows", nil, ""},
		{"darwin", nil, ""},
	} {
		err := screenProblem(tc.goos, func(k string) string { return tc.env[k] })
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %v: %v, want none", tc.goos, tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrNoScreen)):
			t.Errorf("%s %v: %v, want ErrNoScreen saying %q", tc.goos, tc.env, err, tc.want)
		}
	}
}

// TestScreenshotCaptureSteps runs the capture with a fake grabber: the
// name, the limits, and what happens when the grabber fails or hangs.
func TestScreenshotCaptureSteps(t *testing.T) {
	x := func(k string) string { return map[string]string{"DISPLAY": ":0"}[k] }
	now := time.Date(2026, 12, 6, 18, 5, 59, 0, time.Local)
	ctx := context.Background()

	t.Run("named by the minute", func(t *testing.T) {
		img := stripes(640, 480)
		s, err := captureScreenshot(ctx, "linux", x, now, func() (*image.RGBA, error) { return img, nil }, attachmentFit)
		if err != nil {
			t.Fatal(err)
		}
		a := s.Attachment
		if a.Filename != "screenshot-2026-12-06-1805.png" || a.ContentType != "image/png" || a.SizeBytes != int64(len(a.Data)) {
			t.Errorf("attachment %s %s %d (%d bytes)", a.Filename, a.ContentType, a.SizeBytes, len(a.Data))
		}
		if s.Downscaled() || s.Size != image.Pt(640, 480) {
			t.Errorf("size %v (downscaled %v), want 640x480 as captured", s.Size, s.Downscaled())
		}
		if got := color.RGBAModel.Convert(decodePNG(t, a.Data).At(5, 7)); got != img.At(5, 7) {
			t.Errorf("pixel (5,7) = %v, want %v as captured", got, img.At(5, 7))
		}
	})
	t.Run("too big for the limit", func(t *testing.T) {
		big := noise(400, 300)
		fit := screenshotFit{limit: 100 << 10, minWidth: 64}
		s, err := captureScreenshot(ctx, "linux", x, now, func() (*image.RGBA, error) { return big, nil }, fit)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Downscaled() || s.Screen != image.Pt(400, 300) || s.Size.X >= 400 || s.Attachment.SizeBytes > int64(fit.limit) {
			t.Errorf("screen %v, size %v, %d bytes: want it shrunk under %d", s.Screen, s.Size, s.Attachment.SizeBytes, fit.limit)
		}
	})
	t.Run("no display: the grabber is not asked", func(t *testing.T) {
		_, err := captureScreenshot(ctx, "linux", func(string) string { return "" }, now, func() (*image.RGBA, error) {
			t.Error("grabber called without a display")
			return nil, nil
		}, attachmentFit)
		if !errors.Is(err, ErrNoScreen) {
			t.Errorf("error %v, want ErrNoScreen", err)
		}
	})
	t.Run("grabber fails", func(t *testing.T) {
		boom := errors.New("BadMatch")
		for _, tc := range []struct {
			env  map[string]string
			want string
		}{
			{map[string]string{"DISPLAY": ":0"}, "capturing the screen: BadMatch"},
			{map[string]string{"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, "capturing the screen: the desktop's screenshot portal did not give one: BadMatch"},
		} {
			_, err := captureScreenshot(ctx, "linux", func(k string) string { return tc.env[k] }, now, func() (*image.RGBA, error) { return nil, boom }, attachmentFit)
			if !errors.Is(err, boom) || err.Error() != tc.want {
				t.Errorf("%v: error %v, want %q", tc.env, err, tc.want)
			}
		}
	})
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
		says string
	}{
		{"grabber hangs past the deadline", func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 0) }, context.DeadlineExceeded, "took too long"},
		{"grabber hangs, caller gives up", func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c, cancel
		}, context.Canceled, "was cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := captureScreenshot(ctx, "linux", x, now, func() (*image.RGBA, error) { <-release; return nil, nil }, attachmentFit)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}

func TestScreenshotsAllowed(t *testing.T) {
	no, yes := false, true
	policy := func(allow *bool) *config.Config {
		return &config.Config{Policy: config.Policy{AllowScreenshots: allow}}
	}
	for _, tc := range []struct {
		name  string
		allow *bool
		want  bool
	}{{"unset", nil, true}, {"true", &yes, true}, {"false", &no, false}} {
		s := &Service{Config: policy(tc.allow)}
		if got := s.ScreenshotsAllowed(); got != tc.want {
			t.Errorf("allowScreenshots %s: ScreenshotsAllowed() = %v, want %v", tc.name, got, tc.want)
		}
	}
	// A running tray follows config changes: IT's new policy applies at once.
	s := &Service{Config: policy(nil), route: &atomic.Pointer[config.Config]{}}
	s.UseConfig(&config.Loaded{Config: policy(&no)})
	if s.ScreenshotsAllowed() {
		t.Error("still allowed after a config that forbids screenshots was taken into use")
	}
}

func TestReportScreenshotRefusedByPolicy(t *testing.T) {
	for _, tc := range []struct {
		name          string
		user, managed string // config files; "" none
	}{
		{"user's file", `{"version":1,"policy":{"allowScreenshots":false}}`, ""},
		{"IT's locked file over the user's", `{"version":1,"policy":{"allowScreenshots":true}}`,
			`{"version":1,"locked":["policy.allowScreenshots"],"policy":{"allowScreenshots":false}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.env["DISPLAY"] = ":0" // refused before any capture is tried
			managed := filepath.Join(h.dir, "managed")
			h.env[config.EnvManagedDir] = managed
			if tc.managed != "" {
				if err := os.MkdirAll(managed, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(managed, "config.json"), []byte(tc.managed), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg := h.writeConfig(tc.user)
			r := h.run("--config", cfg, "report", "--summary", "printer jams", "--screenshot", "--no-system-info")
			if r.code != ExitUsage || !strings.Contains(r.stderr, "does not allow screenshots (policy.allowScreenshots is false)") {
				t.Errorf("exit %d, stderr %q; want 2 and the policy named", r.code, r.stderr)
			}
			if got := h.list("--config", cfg); len(got) != 0 {
				t.Errorf("a refused report was queued: %+v", got)
			}
		})
	}
}

func TestReportScreenshotWithoutDisplay(t *testing.T) {
	h := newHarness(t) // its environment has no DISPLAY
	r := h.run("report", "--summary", "printer jams", "--screenshot", "--no-system-info")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "no screen to capture: DISPLAY is not set") || !strings.Contains(r.stderr, "NOT queued") {
		t.Errorf("exit %d, stderr %q; want 1, the reason and that nothing was queued", r.code, r.stderr)
	}
	if got := h.list(); len(got) != 0 {
		t.Errorf("a failed report was queued: %+v", got)
	}
}
