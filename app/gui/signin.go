package gui

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/app"
)

// signInLine is an oauth2_user connection's sign-in in Settings: who is
// signed in until when, with Sign in (`connections login NAME`) and Sign
// out (`connections logout NAME`).
type signInLine struct {
	who      *widget.Label
	signIn   *widget.Button
	signOut  *widget.Button
	msg      *widget.Label // the last sign-in's outcome (hidden until one)
	content  fyne.CanvasObject
	signedIn bool
	running  bool
}

func (v *settingsView) newSignInLine(r *connRow) *signInLine {
	si := &signInLine{who: widget.NewLabel("…"), msg: widget.NewLabel("")}
	si.who.Truncation = fyne.TextTruncateEllipsis
	si.msg.Wrapping = fyne.TextWrapWord
	si.msg.Hide()
	si.signIn = widget.NewButton("Sign in", func() { v.signIn(r) })
	si.signOut = widget.NewButton("Sign out", func() { v.signOut(r) })
	si.signOut.Disable()
	si.content = container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(si.signIn, si.signOut), si.who), si.msg)
	return si
}

// signInWords is the sign-in as `connections list` says it.
func signInWords(s app.ConnectionStatus) string {
	switch {
	case s.SignedInAs == "":
		return "Not signed in"
	case s.GrantExpiresAt != nil:
		return "Signed in as " + s.SignedInAs + " until " + s.GrantExpiresAt.Local().Format("2006-01-02 15:04")
	}
	return "Signed in as " + s.SignedInAs
}

// apply shows a connection's sign-in from its status (UI thread).
func (si *signInLine) apply(s app.ConnectionStatus) {
	si.who.SetText(signInWords(s))
	si.signedIn = s.SignedInAs != ""
	si.signIn.Importance = widget.HighImportance // the way to get the tickets moving
	if si.signedIn {
		si.signIn.Importance = widget.MediumImportance
	}
	si.setButtons()
}

func (si *signInLine) setButtons() {
	if si.running {
		si.signIn.Disable()
		si.signOut.Disable()
		return
	}
	si.signIn.Enable()
	if si.signedIn {
		si.signOut.Enable()
	} else {
		si.signOut.Disable()
	}
}

func (si *signInLine) setMsg(text string, imp widget.Importance) {
	si.msg.Importance = imp
	si.msg.SetText(text)
	si.msg.Show()
}

// signIn runs Service.Login off the UI thread, with a dialog that shows
// the URL it prints (to open by hand if no browser opens); the dialog's
// Cancel cancels the sign-in.
func (v *settingsView) signIn(r *connRow) {
	si := r.signin
	if si.running {
		return
	}
	si.running = true
	si.setButtons()
	si.signIn.SetText("Signing in…")
	si.msg.Hide()
	ctx, cancel := context.WithCancel(context.Background())
	p := newSignInProgress()
	hide := func() {}
	if v.showSignIn != nil {
		hide = v.showSignIn(r.conn.Name, p.content, cancel)
	}
	out := &lineWriter{line: func(l string) { fyne.Do(func() { p.add(l) }) }}
	name := r.conn.Name
	v.bg.run(func() func() {
		_, err := v.b.Login(ctx, name, app.LoginOptions{Out: out})
		out.flush()
		cancelled := ctx.Err() != nil
		cancel()
		return func() {
			si.running = false
			si.signIn.SetText("Sign in")
			si.setButtons()
			hide()
			switch {
			case err == nil:
				si.msg.Hide()
			case cancelled: // the dialog's Cancel
				si.setMsg("Sign-in cancelled.", widget.MediumImportance)
			default:
				si.setMsg("Sign-in failed: "+clip(err.Error(), 300), widget.DangerImportance)
			}
			v.reload()
		}
	})
}

// signOut removes the connection's tokens (Service.Logout).
func (v *settingsView) signOut(r *connRow) {
	si := r.signin
	if si.running {
		return
	}
	si.running = true
	si.setButtons()
	name := r.conn.Name
	v.bg.run(func() func() {
		err := v.b.Logout(name)
		return func() {
			si.running = false
			si.setButtons()
			if err != nil {
				si.setMsg("Sign-out failed: "+clip(err.Error(), 300), widget.DangerImportance)
			} else {
				si.setMsg("Signed out: tickets wait until someone signs in again.", widget.MediumImportance)
			}
			v.reload()
		}
	})
}

// showSignInDialog shows a sign-in's progress over parent; its Cancel
// calls cancel. It returns what hides it (when the sign-in ends).
func showSignInDialog(conn string, content fyne.CanvasObject, cancel func(), parent fyne.Window) (hide func()) {
	d := dialog.NewCustom("Sign in to "+conn, "Cancel", content, parent)
	d.SetOnClosed(cancel)
	d.Resize(fyne.NewSize(560, 300))
	d.Show()
	return d.Hide
}

// signInProgress is the sign-in dialog's content: what the sign-in says,
// and the authorization URL as a link and as text to copy.
type signInProgress struct {
	text    *widget.Label
	link    *widget.Hyperlink
	url     *widget.Label
	content fyne.CanvasObject
	lines   []string
}

func newSignInProgress() *signInProgress {
	p := &signInProgress{text: widget.NewLabel("Starting the sign-in…"), link: widget.NewHyperlink("Open the sign-in page", nil), url: widget.NewLabel("")}
	p.text.Wrapping = fyne.TextWrapWord
	p.url.Wrapping = fyne.TextWrapBreak
	p.url.Selectable = true
	p.link.Hide()
	p.url.Hide()
	p.content = container.NewVBox(p.text, p.link, p.url)
	return p
}

// add shows a line the sign-in printed: the URL goes to the link.
func (p *signInProgress) add(line string) {
	line = strings.TrimSpace(line)
	if u, err := url.Parse(line); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		p.link.SetURL(u)
		p.link.Show()
		p.url.SetText(line)
		p.url.Show()
		return
	}
	if line == "" {
		return
	}
	p.lines = append(p.lines, line)
	p.text.SetText(strings.Join(p.lines, "\n"))
}

// lineWriter hands what is written to it to line, a line at a time; it is
// safe for concurrent use.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		l := string(w.buf.Next(i + 1))
		w.line(strings.TrimRight(l, "\r\n"))
	}
}

// flush hands on an unfinished last line.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.line(w.buf.String())
		w.buf.Reset()
	}
}
