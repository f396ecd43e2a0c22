package gui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/diagnostics"
)

// diagView is the "Run diagnostics" window: what `ticketray diagnose`
// prints, with nothing queued.
type diagView struct {
	collect func(context.Context) *diagnostics.SystemInfo
	// checks runs the read-only troubleshooting checks (the app's
	// ReadOnlyChecks); their results show under "Checks", as `diagnose`
	// prints them. nil shows system information only.
	checks func(context.Context) ([]diagnostics.SkillResult, error)

	content fyne.CanvasObject
	run     *widget.Button
	copyBtn *widget.Button
	status  *widget.Label
	text    *widget.Label
	gen     int
}

func newDiagView(collect func(context.Context) *diagnostics.SystemInfo) *diagView {
	v := &diagView{collect: collect}
	v.run = widget.NewButtonWithIcon("Run again", theme.ViewRefreshIcon(), v.start)
	v.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		if a := fyne.CurrentApp(); a != nil {
			a.Clipboard().SetContent(v.text.Text)
		}
	})
	v.status = widget.NewLabel("")
	v.text = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.text.Selectable = true
	top := container.NewHBox(v.status, layoutSpacer(), v.copyBtn, v.run)
	note := widget.NewLabel("Nothing is sent: this is what a ticket would carry about this computer.")
	note.Wrapping = fyne.TextWrapWord
	v.content = container.NewBorder(top, note, nil, nil, container.NewScroll(v.text))
	return v
}

// start collects the information (and runs the checks, when wired) off
// the UI thread.
func (v *diagView) start() {
	v.gen++
	gen := v.gen
	v.run.Disable()
	v.copyBtn.Disable()
	v.status.SetText("Collecting…")
	go func() {
		ctx := context.Background()
		var b strings.Builder
		app.WriteSystemInfo(&b, v.collect(ctx))
		if v.checks != nil {
			b.WriteString("\nChecks\n")
			if results, err := v.checks(ctx); err != nil {
				fmt.Fprintf(&b, "  could not run: %v\n", err)
			} else {
				app.WriteSkillResults(&b, results)
			}
		}
		text := b.String()
		fyne.Do(func() {
			if gen != v.gen {
				return
			}
			v.run.Enable()
			v.copyBtn.Enable()
			v.status.SetText("Collected at " + time.Now().Format("15:04:05") + ".")
			v.text.SetText(text)
		})
	}()
}
