package gui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/queue"
)

// addedMsg is what the user hears once an addition is stored.
const addedMsg = "Added — it reaches the help desk once the ticket is created there."

// addForm is the "Add a comment" dialog of My tickets: a comment and
// files for the selected ticket (`queue comment ID --text T --attach F`).
type addForm struct {
	text      *formEntry // Ctrl+Enter saves, Esc cancels
	attach    attachmentList
	attachBox *fyne.Container
	attachBtn *widget.Button
	save      *widget.Button
	msg       *widget.Label
	content   fyne.CanvasObject
	hide      func()
}

// doAdd opens the dialog for the selected ticket; withFile asks for a
// file straight away ("Attach a file").
func (v *queueView) doAdd(withFile bool) {
	id := v.selected
	if id == "" || v.user == nil || v.showAdd == nil {
		return
	}
	f := &addForm{msg: widget.NewLabel(""), attachBox: container.NewVBox()}
	f.text = newFormEntry(true, func() {
		if !f.save.Disabled() {
			v.saveAdd(f, id)
		}
	}, f.close)
	f.text.SetPlaceHolder("What happened since, or what the help desk asked for")
	f.text.SetMinRowsVisible(5)
	f.msg.Wrapping = fyne.TextWrapWord
	f.msg.Importance = widget.DangerImportance
	f.attachBtn = widget.NewButtonWithIcon("Attach file…", theme.MailAttachmentIcon(), func() { v.pickAddFile(f) })
	f.save = widget.NewButtonWithIcon("Save", theme.ConfirmIcon(), func() { v.saveAdd(f, id) })
	f.save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { f.close() })
	f.content = container.NewBorder(
		widget.NewLabel("Your comment goes to the help desk with your report."),
		container.NewVBox(f.attachBox, f.msg, container.NewHBox(f.attachBtn, layoutSpacer(), cancel, f.save)),
		nil, nil, f.text)
	// My tickets calls it "Reference 1234abcd": so does the dialog.
	f.hide = v.showAdd(addTitle(id), f.content)
	if withFile {
		v.pickAddFile(f)
	}
}

// addTitle is the add dialog's title: the report by the reference My
// tickets shows for it.
func addTitle(id string) string { return "Add to your report (reference " + shortID(id) + ")" }

// showAddDialog shows the add form over parent; its own buttons close it.
func showAddDialog(title string, content fyne.CanvasObject, parent fyne.Window) (hide func()) {
	d := dialog.NewCustomWithoutButtons(title, content, parent)
	d.Resize(fyne.NewSize(560, 360))
	escCloses(parent.Canvas(), d)
	d.Show()
	return d.Hide
}

func (f *addForm) close() {
	if f.hide != nil {
		f.hide()
	}
}

// pickAddFile asks for a file, reads it off the UI thread and lists it,
// or says inline why it cannot be attached.
func (v *queueView) pickAddFile(f *addForm) {
	if v.pickFile == nil {
		return
	}
	v.pickFile(func(path string) {
		f.attachBtn.Disable()
		v.bg.run(func() func() {
			a, err := v.readFile(path)
			return func() {
				f.attachBtn.Enable()
				if err == nil {
					err = f.attach.add(a)
				}
				if err != nil {
					f.msg.SetText(notAttached(path, err))
					return
				}
				f.msg.SetText("")
				f.showAttachments()
			}
		})
	})
}

func (f *addForm) showAttachments() { f.attach.show(f.attachBox, nil) } // in a dialog: Esc is the dialog's

// saveAdd stores the addition; on success the dialog closes, the status
// line says so and the view reloads.
func (v *queueView) saveAdd(f *addForm, id string) {
	text := strings.TrimSpace(f.text.Text)
	files := append([]connectors.Attachment(nil), f.attach.items...)
	switch {
	case text == "" && len(files) == 0:
		f.msg.SetText("Write a comment or attach a file first.")
		return
	case len(text) > app.MaxAdditionText:
		f.msg.SetText("The comment is too long; please shorten it or attach it as a file.")
		return
	}
	f.save.Disable() // until stored or refused
	f.msg.SetText("")
	user := *v.user
	v.bg.run(func() func() {
		_, err := v.b.Comment(context.Background(), id, text, files, user)
		return func() {
			f.save.Enable()
			if err != nil {
				f.msg.SetText(addErrorWords(err))
				return
			}
			f.close()
			v.setStatus(addedMsg)
			if v.onChanged != nil {
				v.onChanged()
			}
			v.reload()
		}
	})
}

// addErrorWords says in plain words why an addition was not stored.
func addErrorWords(err error) string {
	switch {
	case errors.Is(err, queue.ErrNotFound):
		return "This ticket is no longer on this computer, so nothing can be added to it."
	case strings.Contains(err.Error(), "not going to any help desk"):
		return "This ticket is not going to any help desk, so nothing can be added to it."
	case strings.Contains(err.Error(), "unreadable"):
		return "This ticket can no longer be read on this computer, so nothing can be added to it."
	}
	return "Could not save your addition. Please try again; if it keeps failing, ask your help desk."
}

// additionJSON is the part of `queue show --json` My tickets shows: what
// the user added, and where each addition stands per help desk.
type additionJSON struct {
	CreatedAt   time.Time `json:"createdAt"`
	Text        string    `json:"text"`
	Attachments []string  `json:"attachments"`
	Error       string    `json:"error"`
	Deliveries  []struct {
		Connection string `json:"connection"`
		State      string `json:"state"`
	} `json:"deliveries"`
}

// readAdditions reads ticket id's additions as `queue show --json` lists them.
func readAdditions(ctx context.Context, b queueBackend, id string) ([]additionJSON, error) {
	var buf bytes.Buffer
	if err := b.WriteTicketJSON(ctx, &buf, id); err != nil {
		return nil, err
	}
	var j struct {
		Additions []additionJSON `json:"additions"`
	}
	err := json.Unmarshal(buf.Bytes(), &j)
	return j.Additions, err
}

// additionLines are the user's own additions for the Conversation tab:
// each under "You" and its time, with its files and, per help desk,
// whether it is waiting, sent or could not be sent.
func additionLines(adds []additionJSON) []convLine {
	var out []convLine
	for i, a := range adds {
		out = append(out, convLine{Text: "You added · " + a.CreatedAt.Local().Format("2006-01-02 15:04"), Heading: true, Start: i == 0})
		if a.Error != "" {
			out = append(out, convLine{Text: "This addition can no longer be read on this computer."})
		}
		if a.Text != "" {
			out = append(out, convLine{Text: a.Text})
		}
		for _, f := range a.Attachments {
			name, _, _ := strings.Cut(f, " (")
			out = append(out, convLine{Text: "Attached " + name})
		}
		var states []string
		for _, d := range a.Deliveries {
			states = append(states, d.Connection+": "+additionState(d.State))
		}
		if len(states) > 0 {
			out = append(out, convLine{Text: strings.Join(states, " · ")})
		}
	}
	return out
}

func additionState(s string) string {
	switch s {
	case queue.StateDelivered:
		return "sent"
	case queue.StateDead:
		return "could not be sent"
	}
	return "waiting"
}
