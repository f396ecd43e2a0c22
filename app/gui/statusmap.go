package gui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ticketray/ticketray/connectors"
)

// valueInput is a mapping row's value: free text for priority and
// category (the vendor's value), a choice of the local states for status.
type valueInput struct {
	entry *widget.Entry
	sel   *widget.Select
}

func newValueInput(kind, value string) valueInput {
	if kind == "status" {
		sel := widget.NewSelect(connectors.LocalStates, nil)
		if value != "" {
			sel.SetSelected(value)
		}
		return valueInput{sel: sel}
	}
	e := widget.NewEntry()
	e.SetText(value)
	return valueInput{entry: e}
}

func (in valueInput) object() fyne.CanvasObject {
	if in.sel != nil {
		return in.sel
	}
	return in.entry
}

func (in valueInput) text() string {
	if in.sel != nil {
		return in.sel.Selected
	}
	return in.entry.Text
}

func (in valueInput) setPlaceHolder(s string) {
	if in.sel != nil {
		in.sel.PlaceHolder = s
		return
	}
	in.entry.SetPlaceHolder(s)
}

func (in valueInput) onChanged(f func(string)) {
	if in.sel != nil {
		in.sel.OnChanged = f
		return
	}
	in.entry.OnChanged = f
}

func (in valueInput) Disable() {
	if in.sel != nil {
		in.sel.Disable()
		return
	}
	in.entry.Disable()
}

// builtInRows lists, read-only, the vendor's built-in status rows that
// apply under the table (a row of the table wins), as `config mapping
// CONN status` prints them.
func (v *settingsView) builtInRows(conn string, t *mappingTable) fyne.CanvasObject {
	var c connectors.Connection
	for _, cc := range v.conns {
		if cc.Name == conn {
			c = cc
		}
	}
	rows := builtInStatusRows(c, t)
	if len(rows) == 0 {
		return widget.NewLabel(fmt.Sprintf("%s has no built-in status rows: anything without a row above shows as the default row says.", c.Type))
	}
	note := widget.NewLabel(fmt.Sprintf("Built-in rows of %s (a row above wins):", c.Type))
	note.Wrapping = fyne.TextWrapWord
	grid := container.NewGridWithColumns(2)
	for _, r := range rows {
		grid.Add(widget.NewLabel(r.Key))
		grid.Add(widget.NewLabel(r.Value))
	}
	return container.NewVBox(note, grid)
}
