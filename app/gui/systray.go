package gui

import (
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/systray"
)

// systrayTray runs the tray icon and menu with fyne.io/systray's own
// event loop (D-Bus on Linux, the OS's message loop elsewhere): it sleeps
// until something happens. It blocks until h.quit is called or the menu's
// Quit is chosen.
func systrayTray(h *host, started func()) {
	go func() {
		<-h.quitCh
		systray.Quit()
	}()
	// Before Run: on Linux, Run exports the item's properties while
	// onReady already runs, and a title set in between is lost.
	systray.SetTitle(brandName(h.svc)) // some XDG trays misbehave without one
	systray.SetTooltip(brandName(h.svc))
	systray.SetIcon(osIcon("online"))
	systray.Run(func() {
		h.mu.Lock()
		s := newSystrayMenu(h.menu, h.quit)
		h.mu.Unlock()
		h.setSurface(s)
		started()
	}, h.quit)
}

// systrayMenu mirrors a fyne.Menu (labels, disabled state, actions) in
// the system tray, plus a Quit entry.
type systrayMenu struct {
	menu   *fyne.Menu
	items  []*systray.MenuItem // nil for separators
	labels []string            // as last shown
	off    []bool
	icon   string
}

func newSystrayMenu(m *fyne.Menu, quit func()) *systrayMenu {
	s := &systrayMenu{menu: m, icon: "online"}
	for _, it := range m.Items {
		if it.IsSeparator {
			systray.AddSeparator()
			s.items = append(s.items, nil)
			s.labels = append(s.labels, "")
			s.off = append(s.off, false)
			continue
		}
		item := systray.AddMenuItem(it.Label, "")
		if it.Disabled {
			item.Disable()
		}
		s.items = append(s.items, item)
		s.labels = append(s.labels, it.Label)
		s.off = append(s.off, it.Disabled)
		go func(act func()) {
			for range item.ClickedCh {
				if act != nil {
					act()
				}
			}
		}(it.Action)
	}
	systray.AddSeparator()
	q := systray.AddMenuItem("Quit", "")
	go func() {
		for range q.ClickedCh {
			quit()
		}
	}()
	return s
}

// refresh shows changed labels; the caller holds the host's lock, which
// guards the menu. Only changes are sent: each one is a D-Bus signal on
// Linux.
func (s *systrayMenu) refresh() {
	for i, it := range s.menu.Items {
		item := s.items[i]
		if item == nil {
			continue
		}
		if it.Label != s.labels[i] {
			item.SetTitle(it.Label)
			s.labels[i] = it.Label
		}
		if it.Disabled != s.off[i] {
			if it.Disabled {
				item.Disable()
			} else {
				item.Enable()
			}
			s.off[i] = it.Disabled
		}
	}
}

func (s *systrayMenu) setIcon(name string) {
	if name == s.icon {
		return
	}
	s.icon = name
	systray.SetIcon(osIcon(name))
}

// osIcon is a tray icon in the form the OS's tray takes.
func osIcon(name string) []byte {
	b := icons[name].Content()
	if runtime.GOOS == "windows" {
		b = pngToICO(b)
	}
	return b
}

// pngToICO wraps a PNG in an ICO container (one image, PNG-compressed, as
// Windows accepts since Vista): the Windows tray takes ICO only.
func pngToICO(png []byte) []byte {
	w, h := byte(0), byte(0) // 0 means 256 or more
	if len(png) >= 24 {
		// The IHDR chunk: width and height, big-endian, at 16 and 20.
		if pw := int(png[16])<<24 | int(png[17])<<16 | int(png[18])<<8 | int(png[19]); pw < 256 {
			w = byte(pw)
		}
		if ph := int(png[20])<<24 | int(png[21])<<16 | int(png[22])<<8 | int(png[23]); ph < 256 {
			h = byte(ph)
		}
	}
	n := uint32(len(png))
	const offset = 6 + 16
	ico := []byte{
		0, 0, 1, 0, 1, 0, // ICONDIR: reserved, type 1 (icon), one image
		w, h, 0, 0, 1, 0, 32, 0, // ICONDIRENTRY: size, no palette, 1 plane, 32 bpp
		byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24),
		offset, 0, 0, 0,
	}
	return append(ico, png...)
}
