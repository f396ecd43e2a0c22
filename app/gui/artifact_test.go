package gui

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/test"
)

// pinImage compares img with the golden testdata/name (fyne's test
// renderer) and, when TICKETRAY_ARTIFACTS names a directory, keeps a copy
// there too: the evidence screenshots a reviewer looks at.
func pinImage(t *testing.T, name string, img image.Image) {
	t.Helper()
	test.AssertImageMatches(t, name, img)
	dir := os.Getenv("TICKETRAY_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts: %v", err)
	}
	f, err := os.Create(filepath.Join(dir, "gui_"+name))
	if err != nil {
		t.Fatalf("artifacts: %v", err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatalf("artifacts: write %s: %v", name, err)
	}
}
