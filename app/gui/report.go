package gui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/diagnostics"
	"github.com/ticketray/ticketray/queue"
)

// submitter is the part of app.Service the report form needs.
type submitter interface {
	Submit(ctx context.Context, d app.Draft) (app.Receipt, error)
}

// reportForm is the "Report an issue" window's content. Work that may
// block (system info, the disk write) runs off the UI thread; results come
// back through fyne.Do.
type reportForm struct {
	svc        submitter
	collect    func(context.Context) *diagnostics.SystemInfo
	user       connectors.User
	onSaved    func(app.Receipt)
	summary    *formEntry
	summaryErr *widget.Label
	descr      *formEntry
	category   *escSelect
	priority   *escSelect
	sysInfo    *escCheck
	preview    *escButton
	submit     *escButton
	cancel     *escButton
	status     *widget.Label
	// done confirms a save: the reference the user can quote to the help
	// desk and a way to My tickets. It stays until a new report starts.
	done     *fyne.Container
	doneText *widget.Label
	doneSub  *widget.Label // where the saved ticket stands: waiting, sent as, not accepted
	mineBtn  *escButton
	onMine   func() // opens My tickets
	onClose  func() // Cancel or Esc: closes the window (the draft stays)
	// configLine says the config files are broken (hidden when they are
	// not): the report is still saved, and sent once IT fixes them.
	configLine *widget.Label
	configBox  *fyne.Container
	content    fyne.CanvasObject
	previewFn  func(string) // shows the system-info preview; a dialog in the app

	// Attachments: the list, its rows, and the file picker (Fyne's file
	// dialog in the app; got receives the chosen path).
	attach    attachmentList
	attachBox *fyne.Container
	attachBtn *escButton
	pickFile  func(got func(path string))
	readFile  func(path string) (connectors.Attachment, error)

	// Screenshots (attach.go): capture is app.CaptureScreenshot in the
	// app, a fake in tests; hideWin and showWin move the report window
	// out of the picture.
	shotBtn    *escButton
	capture    func(context.Context) (connectors.Attachment, error)
	hideWin    func()
	showWin    func()
	shotSettle time.Duration
	capturing  bool

	// track, when set, reads a saved ticket's deliveries so the status can
	// say "Sent as INC0010023" if the courier delivers it within trackFor.
	track      func(ctx context.Context, id string) ([]queue.Delivery, error)
	trackFor   time.Duration
	trackEvery time.Duration
	gen        int  // counts saves, so a late result never overwrites a newer status
	following  bool // a saved ticket is being followed

	// Suggested checks, run before saving when the toggle is on, with a
	// progress bar and a line per skill updated as each one ends.
	runSkills   skillRunner
	skillNames  []string
	skillsCheck *escCheck
	skillsBar   *widget.ProgressBar
	skillsBox   *fyne.Container
}

// skillRunner runs the suggested checks, telling onResult each result as
// it ends (from any goroutine).
type skillRunner func(ctx context.Context, onResult func(i int, r diagnostics.SkillResult)) ([]diagnostics.SkillResult, *connectors.TroubleshootingSession)

func newReportForm(svc submitter, categories []string, user connectors.User, collect func(context.Context) *diagnostics.SystemInfo) *reportForm {
	f := &reportForm{svc: svc, collect: collect, user: user, readFile: app.ReadAttachment, trackFor: 3 * time.Second, trackEvery: 150 * time.Millisecond, shotSettle: shotSettle}
	f.summary = newFormEntry(false, f.submitKey, f.close)
	f.summary.SetPlaceHolder("What is wrong, in one line")
	// Enter moves on to the description: it never submits or clears a
	// half-written report.
	f.summary.OnSubmitted = func(string) { focus(f.descr) }
	f.summary.OnChanged = func(s string) {
		f.setSummaryErr("")
		if s != "" {
			f.done.Hide() // a new report begins
		}
	}
	f.summaryErr = widget.NewLabel("")
	f.summaryErr.Importance = widget.DangerImportance
	f.summaryErr.Hide()
	f.descr = newFormEntry(true, f.submitKey, f.close)
	f.descr.SetPlaceHolder("What happened, what you expected, what you tried")
	f.descr.SetMinRowsVisible(5)
	f.category = newEscSelect(categories, f.close)
	f.category.PlaceHolder = "(none)"
	prios := make([]string, len(connectors.Priorities))
	for i, p := range connectors.Priorities {
		prios[i] = string(p)
	}
	f.priority = newEscSelect(prios, f.close)
	f.priority.SetSelected(string(connectors.PriorityMedium))
	f.sysInfo = newEscCheck("Include system information", f.close)
	f.sysInfo.SetChecked(true)
	f.preview = newEscButton("Preview…", nil, f.showPreview, f.close)
	f.submit = newEscButton("Submit", nil, f.doSubmit, f.close)
	f.submit.Importance = widget.HighImportance
	f.cancel = newEscButton("Cancel", nil, f.close, f.close)
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.doneText = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	f.doneText.Wrapping = fyne.TextWrapWord
	f.doneText.Selectable = true // the reference can be copied
	f.doneSub = widget.NewLabel("")
	f.doneSub.Wrapping = fyne.TextWrapWord
	f.mineBtn = newEscButton("Open My tickets", theme.ListIcon(), func() {
		if f.onMine != nil {
			f.onMine()
		}
	}, f.close)
	// The check sits beside the first line, not the middle of the block:
	// an empty label is one line high, and the icon is centred on it.
	check := container.NewStack(widget.NewLabel(""), container.NewCenter(widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))))
	f.done = container.NewBorder(nil, nil, container.NewVBox(check), container.NewVBox(f.mineBtn), container.NewVBox(f.doneText, f.doneSub))
	f.done.Hide()
	f.configLine = widget.NewLabel("")
	f.configLine.Wrapping = fyne.TextWrapWord
	f.configLine.Importance = widget.WarningImportance
	f.configBox = container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, f.configLine)
	f.configBox.Hide()
	f.attachBtn = newEscButton("Attach file…", theme.MailAttachmentIcon(), f.pickAttachment, f.close)
	f.shotBtn = newEscButton("Attach a screenshot", theme.ComputerIcon(), f.takeScreenshot, f.close)
	f.shotBtn.Hide() // shown by setScreenshots once a capture is wired
	f.attachBox = container.NewVBox()

	// The description takes whatever height the window has; the one-line
	// fields sit above it and the options and Submit below.
	top := widget.NewForm(
		widget.NewFormItem("Summary", container.NewVBox(f.summary, f.summaryErr)),
		widget.NewFormItem("Category", f.category),
		widget.NewFormItem("Priority", f.priority),
	)
	f.skillsCheck = newEscCheck("Run suggested checks first", f.close)
	f.skillsBar = widget.NewProgressBar()
	f.skillsBox = container.NewVBox()
	f.skillsCheck.Hide() // shown by setSkills when there are checks to offer
	f.skillsBar.Hide()
	f.skillsBox.Hide()
	bottom := container.NewVBox(
		container.NewHBox(f.sysInfo, f.preview),
		container.NewHBox(f.shotBtn, f.attachBtn),
		f.skillsCheck,
		f.skillsBar,
		f.skillsBox,
		f.attachBox,
		f.status,
		container.NewHBox(layoutSpacer(), f.cancel, f.submit),
	)
	head := container.NewVBox(f.done, f.configBox, top, widget.NewLabelWithStyle("Description", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	// Objects in reading order: Tab goes summary, category, priority,
	// description, then the options, Cancel and Submit (container.NewBorder
	// would put the description first).
	f.content = container.New(layout.NewBorderLayout(head, bottom, nil, nil), head, f.descr, bottom)
	return f
}

// formEntry is an Entry with the report window's keys: Ctrl+Enter
// submits, Esc closes, and Tab always moves on (a multi-line Entry would
// type a tab character and keep the focus).
type formEntry struct {
	widget.Entry
	onSubmit, onEscape func()
}

func newFormEntry(multiLine bool, onSubmit, onEscape func()) *formEntry {
	e := &formEntry{onSubmit: onSubmit, onEscape: onEscape}
	e.MultiLine = multiLine
	if multiLine {
		e.Wrapping = fyne.TextWrapWord
	}
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab leaves the field.
func (e *formEntry) AcceptsTab() bool { return false }

// TypedShortcut takes Ctrl+Enter (the driver gives a focused Entry every
// shortcut, so the window's own never sees it here).
func (e *formEntry) TypedShortcut(s fyne.Shortcut) {
	if isSubmitShortcut(s) && e.onSubmit != nil {
		e.onSubmit()
		return
	}
	e.Entry.TypedShortcut(s)
}

// TypedKey takes Esc (a focused Entry gets the keys, not the window).
func (e *formEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// submitShortcuts are Ctrl+Enter (Cmd+Enter on macOS) on either Enter key.
var submitShortcuts = []*desktop.CustomShortcut{
	{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierShortcutDefault},
}

func isSubmitShortcut(s fyne.Shortcut) bool {
	for _, k := range submitShortcuts {
		if s.ShortcutName() == k.ShortcutName() {
			return true
		}
	}
	return false
}

// bindKeys gives the report window its keys when no field has the
// focus: Ctrl+Enter submits and Esc closes the window, or the dialog
// over it (see escCloses).
func (f *reportForm) bindKeys(c fyne.Canvas) {
	for _, k := range submitShortcuts {
		c.AddShortcut(k, func(fyne.Shortcut) { f.submitKey() })
	}
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			f.close()
		}
	})
}

// submitKey is Ctrl+Enter: Submit, unless a save is under way.
func (f *reportForm) submitKey() {
	if !f.submit.Disabled() {
		f.doSubmit()
	}
}

// close is Cancel and Esc: the window goes, the draft stays for next time.
func (f *reportForm) close() {
	if f.onClose != nil {
		f.onClose()
	}
}

func (f *reportForm) draft() app.Draft {
	return app.Draft{
		Summary:     strings.TrimSpace(f.summary.Text),
		Description: f.descr.Text,
		Category:    f.category.Selected,
		Priority:    f.priority.Selected,
		User:        f.user,
		Attachments: append([]connectors.Attachment(nil), f.attach.items...),
	}
}

// pickAttachment asks for a file and attaches it.
func (f *reportForm) pickAttachment() {
	if f.pickFile != nil {
		f.pickFile(f.addFile)
	}
}

// addFile reads a file off the UI thread (it may be 10 MiB) and adds it
// to the list, or says in the status line why it cannot be attached.
func (f *reportForm) addFile(path string) {
	f.attachBtn.Disable()
	go func() {
		a, err := f.readFile(path)
		fyne.Do(func() {
			f.attachBtn.Enable()
			if err == nil {
				err = f.attach.add(a)
			}
			if err != nil {
				f.status.SetText(notAttached(path, err))
				return
			}
			f.status.SetText("")
			f.showAttachments()
		})
	}()
}

// showAttachments rebuilds the attachment rows from the list.
func (f *reportForm) showAttachments() { f.attach.show(f.attachBox, f.close) }

func (f *reportForm) showPreview() {
	f.preview.Disable()
	go func() {
		si := f.collect(context.Background())
		b, _ := json.MarshalIndent(si, "", "  ")
		fyne.Do(func() {
			f.preview.Enable()
			if f.previewFn != nil {
				f.previewFn(string(b))
			}
		})
	}()
}

// busy reports whether the form holds a draft or has work in flight (a
// save, checks, a followed delivery): the windows process stays while it
// does, so closing the window never loses a half-written report.
func (f *reportForm) busy() bool {
	return f.following || f.capturing || f.submit.Disabled() || f.summary.Text != "" || f.descr.Text != "" || len(f.attach.items) > 0
}

// doSubmit validates and stores the report. The outcome appears in the
// status line; the form is cleared only once the ticket is on disk.
func (f *reportForm) doSubmit() {
	d := f.draft()
	if d.Summary == "" {
		f.setSummaryErr("Please describe the problem in one line.")
		focus(f.summary)
		return
	}
	withInfo := f.sysInfo.Checked
	f.done.Hide()
	f.gen++
	f.following = false // a follower of an earlier save no longer reports
	f.submit.Disable()
	f.status.SetText("Saving…")
	run := f.runSkills
	if !f.skillsCheck.Checked {
		run = nil
	}
	if run != nil {
		f.status.SetText("Running checks…")
		f.startSkillRows()
	}
	go func() {
		ctx := context.Background()
		if run != nil {
			var done int
			d.SkillResults, d.Session = run(ctx, func(i int, r diagnostics.SkillResult) {
				fyne.Do(func() {
					done++
					f.showSkillResult(i, r, done)
				})
			})
			fyne.Do(func() { f.status.SetText("Saving…") })
		}
		if withInfo {
			d.SystemInfo = f.collect(ctx)
		}
		r, err := f.svc.Submit(ctx, d)
		fyne.Do(func() { f.finish(r, err) })
	}()
}

// setSkills offers the suggested checks (by name) and how to run them; no
// names hides the toggle.
func (f *reportForm) setSkills(names []string, run skillRunner) {
	f.skillNames, f.runSkills = names, run
	if len(names) == 0 || run == nil {
		f.skillsCheck.Hide()
		return
	}
	f.skillsCheck.SetText(fmt.Sprintf("Run %d suggested checks first (%s)", len(names), strings.Join(names, ", ")))
	f.skillsCheck.Show()
}

// startSkillRows shows one "waiting" line per check and an empty bar.
func (f *reportForm) startSkillRows() {
	f.skillsBox.RemoveAll()
	for _, n := range f.skillNames {
		f.skillsBox.Add(widget.NewLabel(n + ": waiting…"))
	}
	f.skillsBar.SetValue(0)
	f.skillsBar.Show()
	f.skillsBox.Show()
}

// showSkillResult updates check i's line and the bar (done of all ended).
func (f *reportForm) showSkillResult(i int, r diagnostics.SkillResult, done int) {
	if i < len(f.skillsBox.Objects) {
		if l, ok := f.skillsBox.Objects[i].(*widget.Label); ok {
			l.SetText(fmt.Sprintf("%s: %s (%d ms)", r.SkillName, r.Status, r.ExecutionTimeMs))
		}
	}
	if n := len(f.skillNames); n > 0 {
		f.skillsBar.SetValue(float64(done) / float64(n))
	}
}

func (f *reportForm) finish(r app.Receipt, err error) {
	f.submit.Enable()
	var v connectors.ValidationError
	switch {
	case errors.As(err, &v):
		if msg := v.Field("summary"); msg != "" {
			f.setSummaryErr("Summary " + msg + ".")
		}
		f.status.SetText("Not saved: " + validationWords(v))
	case err != nil:
		f.status.SetText("Not saved — your report is still here. " + app.UserMessage(err))
	default:
		f.status.SetText("")
		f.doneText.SetText(confirmation(r.ID))
		if len(r.Connections) == 0 && f.configBox.Visible() {
			// Nothing to send it to until IT fixes the config.
			f.doneSub.SetText("It is sent once IT fixes the configuration.")
		} else {
			f.doneSub.SetText("It is sent to the help desk as soon as this computer is online.")
		}
		f.done.Show()
		f.content.Refresh() // the form under the confirmation moves
		f.summary.SetText("")
		f.descr.SetText("")
		f.setSummaryErr("")
		f.attach.clear()
		f.showAttachments()
		if f.onSaved != nil {
			f.onSaved(r)
		}
		if f.track != nil && len(r.Connections) > 0 {
			f.following = true
			go f.follow(r.ID, f.gen)
		}
	}
}

// validationWords is a refused draft in the user's words: "the summary
// is 300 characters; the limit is 200."
func validationWords(v connectors.ValidationError) string {
	parts := make([]string, len(v))
	for i, e := range v {
		field := "the " + e.Field
		if strings.HasPrefix(e.Field, "attachments[") {
			field = "an attachment"
		}
		parts[i] = field + " " + e.Msg
	}
	return strings.Join(parts, "; ") + "."
}

// confirmation is the line after a save: the short reference (what
// `ticketray queue show REF` takes) the user can quote to the help desk.
func confirmation(id string) string {
	return "Thank you — your report is saved. Reference: " + shortID(id) + " (quote it if you call the help desk)."
}

// follow watches a saved ticket for trackFor; if the courier delivers it
// (or a vendor refuses it) meanwhile, the status says so.
func (f *reportForm) follow(id string, gen int) {
	ctx, cancel := context.WithTimeout(context.Background(), f.trackFor)
	defer cancel()
	line, ok := awaitSent(ctx, func(ctx context.Context) ([]queue.Delivery, error) { return f.track(ctx, id) }, f.trackEvery)
	fyne.Do(func() {
		if f.gen != gen {
			return // a newer save has its own follower
		}
		f.following = false
		if ok {
			f.doneSub.SetText(line)
		}
	})
}

// awaitSent polls a ticket's deliveries every interval until each is
// delivered or dead, or ctx ends; it returns the status line for what was
// final by then (ok false if nothing was).
func awaitSent(ctx context.Context, get func(context.Context) ([]queue.Delivery, error), every time.Duration) (line string, ok bool) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if ds, err := get(ctx); err == nil {
			line, ok = sentLine(ds)
			if ok && allFinal(ds) {
				return line, true
			}
		}
		select {
		case <-ctx.Done():
			return line, ok
		case <-tick.C:
		}
	}
}

// setSummaryErr shows an inline error under the summary, or hides the
// line when msg is empty so it takes no room.
func (f *reportForm) setSummaryErr(msg string) {
	f.summaryErr.SetText(msg)
	if msg == "" {
		f.summaryErr.Hide()
	} else {
		f.summaryErr.Show()
	}
}

func focus(w fyne.Focusable) {
	if c := fyne.CurrentApp(); c != nil {
		for _, win := range c.Driver().AllWindows() {
			win.Canvas().Focus(w)
		}
	}
}

// setConfigProblem shows why the config files are not in force (see
// app.Service.ConfigProblem) above the form, or hides the line for "".
func (f *reportForm) setConfigProblem(problem string) {
	if problem == "" {
		f.configLine.SetText("")
		f.configBox.Hide()
	} else {
		f.configLine.SetText(configProblemLine(problem))
		f.configBox.Show()
	}
	f.content.Refresh() // the form above the description moves
}

// configProblemLine is the report window's line about a broken config.
func configProblemLine(problem string) string {
	return "Configuration problem: " + clip(problem, 300) + " — tell IT. Your report is still saved and sent once it is fixed."
}

// setCategories replaces the categories offered (a config reload); a
// selection that no longer exists is cleared.
func (f *reportForm) setCategories(cats []string) {
	keep := false
	for _, c := range cats {
		keep = keep || c == f.category.Selected
	}
	f.category.Options = cats
	if !keep {
		f.category.ClearSelected()
	}
	f.category.Refresh()
}
