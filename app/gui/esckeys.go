package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// The driver gives a key to the focused widget alone, and buttons,
// checks and selects drop Esc: after Tab has moved the focus onto one,
// Esc would do nothing. These take Esc as the window's own key (closing
// it), and leave every other key to the widget.

type escButton struct {
	widget.Button
	onEsc func()
}

func newEscButton(label string, icon fyne.Resource, tapped, onEsc func()) *escButton {
	b := &escButton{onEsc: onEsc}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *escButton) TypedKey(k *fyne.KeyEvent) {
	if !escaped(k, b.onEsc) {
		b.Button.TypedKey(k)
	}
}

type escCheck struct {
	widget.Check
	onEsc func()
}

func newEscCheck(label string, onEsc func()) *escCheck {
	c := &escCheck{onEsc: onEsc}
	c.Text = label
	c.ExtendBaseWidget(c)
	return c
}

func (c *escCheck) TypedKey(k *fyne.KeyEvent) {
	if !escaped(k, c.onEsc) {
		c.Check.TypedKey(k)
	}
}

type escSelect struct {
	widget.Select
	onEsc func()
}

func newEscSelect(options []string, onEsc func()) *escSelect {
	s := &escSelect{onEsc: onEsc}
	s.Options = options
	s.PlaceHolder = "(Select one)"
	s.ExtendBaseWidget(s)
	return s
}

func (s *escSelect) TypedKey(k *fyne.KeyEvent) {
	if !escaped(k, s.onEsc) {
		s.Select.TypedKey(k)
	}
}

// escaped runs onEsc for Esc and says whether it did.
func escaped(k *fyne.KeyEvent, onEsc func()) bool {
	if k.Name != fyne.KeyEscape || onEsc == nil {
		return false
	}
	onEsc()
	return true
}
