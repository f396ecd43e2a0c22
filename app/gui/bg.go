package gui

import "fyne.io/fyne/v2"

// bg runs a window's slow work (disk, network) off the UI thread and
// applies its result on the UI thread through fyne.Do. It counts the work
// in flight, so a test can wait until a window is idle.
type bg struct {
	pending int // touched on the UI thread only
}

// run calls work on a new goroutine, then the function it returns (if
// any) on the UI thread. Call run on the UI thread.
func (b *bg) run(work func() (apply func())) {
	b.pending++
	go func() {
		apply := work()
		fyne.Do(func() {
			b.pending--
			if apply != nil {
				apply()
			}
		})
	}()
}
