package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"runtime"
	"time"

	"github.com/kbinani/screenshot"
	xdraw "golang.org/x/image/draw"

	"github.com/ticketray/ticketray/connectors"
)

const (
	// screenshotTimeout bounds a capture whose context has no deadline: on
	// Wayland the desktop's screenshot portal may wait for the user, or
	// never answer.
	screenshotTimeout = 30 * time.Second
	// minScreenshotWidth is the narrowest screenshot worth sending: below
	// it the help desk cannot read the screen, so shrinking gives up.
	minScreenshotWidth = 640
)

// screenshotFit is how a screenshot must fit: at most limit bytes, and not
// narrower than minWidth pixels.
type screenshotFit struct{ limit, minWidth int }

var attachmentFit = screenshotFit{limit: connectors.MaxAttachmentBytes, minWidth: minScreenshotWidth}

// ErrNoScreen is why a screenshot cannot be taken at all here (no display,
// or a Wayland session without X); the GUI can hide the button for it.
var ErrNoScreen = errors.New("no screen to capture")

// shot is a captured screenshot and what was done to fit it.
type shot struct {
	Attachment connectors.Attachment
	Size       image.Point // of the attached image
	Screen     image.Point // of all displays together, as captured
}

// Downscaled says whether the image was shrunk to fit the attachment limit.
func (s shot) Downscaled() bool { return s.Size != s.Screen }

// CaptureScreenshot captures every display as one PNG attachment named like
// "screenshot-2026-12-06-1805.png" (local time). Displays side by side are
// one image, their bounds' union. A PNG over connectors.MaxAttachmentBytes
// is re-encoded, then downscaled, until it fits.
func CaptureScreenshot(ctx context.Context) (connectors.Attachment, error) {
	s, err := captureScreenshot(ctx, runtime.GOOS, os.Getenv, time.Now(), grabScreens, attachmentFit)
	return s.Attachment, err
}

// ScreenshotsAllowed says whether IT lets users attach a screenshot
// (policy.allowScreenshots, default true), by the config new tickets are
// routed by: a running tray follows config changes.
func (s *Service) ScreenshotsAllowed() bool {
	c := s.routing()
	return c == nil || c.Policy.ScreenshotsAllowed()
}

func captureScreenshot(ctx context.Context, goos string, getenv func(string) string, now time.Time, grab func() (*image.RGBA, error), fit screenshotFit) (shot, error) {
	if err := screenProblem(goos, getenv); err != nil {
		return shot{}, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, screenshotTimeout)
		defer cancel()
	}
	type grabbed struct {
		img *image.RGBA
		err error
	}
	// The library takes no context; a portal that never answers leaves
	// this goroutine behind, which beats a report window that hangs.
	done := make(chan grabbed, 1)
	go func() {
		img, err := grab()
		done <- grabbed{img, err}
	}()
	var g grabbed
	select {
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return shot{}, fmt.Errorf("capturing the screen was cancelled: %w", ctx.Err())
		}
		return shot{}, fmt.Errorf("capturing the screen took too long (on Wayland the desktop may be waiting for permission): %w", ctx.Err())
	case g = <-done:
	}
	if g.err != nil {
		if getenv("XDG_SESSION_TYPE") == "wayland" {
			return shot{}, fmt.Errorf("capturing the screen: the desktop's screenshot portal did not give one: %w", g.err)
		}
		return shot{}, fmt.Errorf("capturing the screen: %w", g.err)
	}
	data, size, err := fit.encode(g.img)
	if err != nil {
		return shot{}, err
	}
	return shot{
		Attachment: connectors.Attachment{
			Filename:    screenshotName(now),
			ContentType: "image/png",
			SizeBytes:   int64(len(data)),
			Data:        data,
		},
		Size:   size,
		Screen: g.img.Bounds().Size(),
	}, nil
}

// screenshotName is the attachment's name, by local time to the minute:
// what the user sees on their clock.
func screenshotName(t time.Time) string {
	return "screenshot-" + t.Format("2006-01-02-1504") + ".png"
}

// screenProblem says why no screen can be captured here, before asking
// the library (which only says "0 displays").
func screenProblem(goos string, getenv func(string) string) error {
	switch goos {
	case "windows", "darwin":
		return nil
	}
	if getenv("DISPLAY") != "" {
		return nil
	}
	if getenv("WAYLAND_DISPLAY") != "" || getenv("XDG_SESSION_TYPE") == "wayland" {
		// The portal takes the picture, but the screens' bounds come from
		// X (Xwayland), which this session does not run.
		return fmt.Errorf("%w: this Wayland session has no X display (DISPLAY is not set), which the screenshot needs to find the screens; take one with the desktop's screenshot tool and attach the file", ErrNoScreen)
	}
	return fmt.Errorf("%w: DISPLAY is not set", ErrNoScreen)
}

// grabScreens captures all displays as one image: the union of their
// bounds (relative to the primary display), black where none is.
func grabScreens() (*image.RGBA, error) {
	release, err := holdDisplay()
	if err != nil {
		return nil, err
	}
	defer release()
	n := screenshot.NumActiveDisplays()
	if n <= 0 {
		return nil, fmt.Errorf("%w: the display server reports no screens (is DISPLAY=%q reachable?)", ErrNoScreen, os.Getenv("DISPLAY"))
	}
	var all image.Rectangle
	for i := range n {
		all = all.Union(screenshot.GetDisplayBounds(i))
	}
	if all.Empty() {
		return nil, fmt.Errorf("%w: the display server reports screens of no size", ErrNoScreen)
	}
	return screenshot.CaptureRect(all)
}

// encode encodes img as a PNG that fits: fast compression first (most
// screens fit), then the default compression, then smaller and smaller
// copies. It returns the PNG and its size in pixels.
func (fit screenshotFit) encode(img image.Image) ([]byte, image.Point, error) {
	limit := fit.limit
	full := img.Bounds().Size()
	data, err := encodePNG(img, png.BestSpeed)
	if err != nil || len(data) <= limit {
		return data, full, err
	}
	if data, err = encodePNG(img, png.DefaultCompression); err != nil || len(data) <= limit {
		return data, full, err
	}
	size := full
	for len(data) > limit {
		// A PNG's size grows about with its pixel count: shrink the area
		// by the overshoot, with a margin so one round usually does.
		if size.X <= fit.minWidth {
			return nil, image.Point{}, fmt.Errorf("the screenshot is %s even at %d×%d pixels; the limit for an attachment is %s",
				humanSize(int64(len(data))), size.X, size.Y, humanSize(int64(limit)))
		}
		f := math.Sqrt(float64(limit)/float64(len(data))) * 0.9
		if float64(size.X)*f < float64(fit.minWidth) {
			f = float64(fit.minWidth) / float64(size.X) // one last try
		}
		size = image.Pt(max(1, int(float64(size.X)*f)), max(1, int(float64(size.Y)*f)))
		// Always scale from the original: scaling a scaled copy blurs twice.
		small := image.NewRGBA(image.Rectangle{Max: size})
		xdraw.BiLinear.Scale(small, small.Bounds(), img, img.Bounds(), xdraw.Src, nil)
		if data, err = encodePNG(small, png.DefaultCompression); err != nil {
			return nil, image.Point{}, err
		}
	}
	return data, size, nil
}

func encodePNG(img image.Image, level png.CompressionLevel) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: level}
	if err := enc.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encoding the screenshot as PNG: %w", err)
	}
	return b.Bytes(), nil
}
