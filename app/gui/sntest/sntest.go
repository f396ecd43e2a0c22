// Package sntest is a StatusNotifier watcher and host for tests: what a
// desktop panel is to a Linux tray app (the org.kde.StatusNotifierWatcher
// D-Bus service), small enough to run beside Xvfb in a private session
// bus. It records the items that register, reads their menus over
// com.canonical.dbusmenu, and clicks entries as a user would.
package sntest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	itemIface    = "org.kde.StatusNotifierItem"
	dbusmenuName = "com.canonical.dbusmenu"
)

// Watcher is a running StatusNotifier watcher (and host).
type Watcher struct {
	conn  *dbus.Conn
	props *prop.Properties

	mu    sync.Mutex
	items []Item
	added chan struct{} // closed and replaced on each registration
}

// Item is a registered tray icon: the bus name of its process and its
// object path.
type Item struct {
	w       *Watcher
	Service string
	Path    dbus.ObjectPath
}

// Start claims the watcher's name on the session bus. It fails if another
// watcher (a real panel) runs.
func Start() (*Watcher, error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("sntest: session bus: %w", err)
	}
	w := &Watcher{conn: conn, added: make(chan struct{})}
	if err := conn.Export(watcher{w}, watcherPath, watcherName); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sntest: export: %w", err)
	}
	w.props, err = prop.Export(conn, watcherPath, prop.Map{watcherName: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sntest: export properties: %w", err)
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("sntest: %s is taken (reply %v): %v", watcherName, reply, err)
	}
	return w, nil
}

// Close releases the name and the connection.
func (w *Watcher) Close() error { return w.conn.Close() }

// watcher holds the exported methods.
type watcher struct{ w *Watcher }

// RegisterStatusNotifierItem is called by a tray app with its object path
// (or, by some, its bus name).
func (x watcher) RegisterStatusNotifierItem(sender dbus.Sender, pathOrName string) *dbus.Error {
	it := Item{w: x.w, Service: string(sender), Path: dbus.ObjectPath(pathOrName)}
	if !it.Path.IsValid() || pathOrName[0] != '/' {
		it = Item{w: x.w, Service: pathOrName, Path: "/StatusNotifierItem"}
	}
	w := x.w
	w.mu.Lock()
	w.items = append(w.items, it)
	names := make([]string, len(w.items))
	for i, it := range w.items {
		names[i] = it.Service + string(it.Path)
	}
	close(w.added)
	w.added = make(chan struct{})
	w.mu.Unlock()
	w.props.SetMust(watcherName, "RegisteredStatusNotifierItems", names)
	return nil
}

// RegisterStatusNotifierHost is called by panels; this one is the host.
func (watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// WaitItem waits for the first item to register.
func (w *Watcher) WaitItem(timeout time.Duration) (Item, error) {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		added := w.added
		if len(w.items) > 0 {
			it := w.items[0]
			w.mu.Unlock()
			return it, nil
		}
		w.mu.Unlock()
		select {
		case <-added:
		case <-deadline:
			return Item{}, errors.New("sntest: no tray item registered")
		}
	}
}

// Property reads one of the item's StatusNotifierItem properties.
func (it Item) Property(name string) (any, error) {
	v, err := it.w.conn.Object(it.Service, it.Path).GetProperty(itemIface + "." + name)
	if err != nil {
		return nil, fmt.Errorf("sntest: %s: %w", name, err)
	}
	return v.Value(), nil
}

// Entry is one menu entry.
type Entry struct {
	ID      int32
	Label   string
	Enabled bool
	Visible bool
	Type    string // "separator" or ""
}

// Menu reads the item's top-level menu entries.
func (it Item) Menu() ([]Entry, error) {
	p, err := it.Property("Menu")
	if err != nil {
		return nil, err
	}
	path, ok := p.(dbus.ObjectPath)
	if !ok {
		return nil, fmt.Errorf("sntest: Menu property is %T", p)
	}
	var revision uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	call := it.w.conn.Object(it.Service, path).Call(dbusmenuName+".GetLayout", 0, int32(0), int32(1), []string{})
	if err := call.Store(&revision, &layout); err != nil {
		return nil, fmt.Errorf("sntest: GetLayout: %w", err)
	}
	var out []Entry
	for _, c := range layout.Children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) != 3 {
			return nil, fmt.Errorf("sntest: menu entry %v", c)
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		e := Entry{ID: id, Enabled: true, Visible: true}
		if v, ok := props["label"]; ok {
			e.Label, _ = v.Value().(string)
		}
		if v, ok := props["enabled"]; ok {
			e.Enabled, _ = v.Value().(bool)
		}
		if v, ok := props["visible"]; ok {
			e.Visible, _ = v.Value().(bool)
		}
		if v, ok := props["type"]; ok {
			e.Type, _ = v.Value().(string)
		}
		out = append(out, e)
	}
	return out, nil
}

// Click sends a click on the visible menu entry with the label, as a
// panel does when the user picks it.
func (it Item) Click(label string) error {
	entries, err := it.Menu()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Label == label && e.Visible {
			p, _ := it.Property("Menu")
			call := it.w.conn.Object(it.Service, p.(dbus.ObjectPath)).Call(dbusmenuName+".Event", 0,
				e.ID, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix()))
			return call.Err
		}
	}
	return fmt.Errorf("sntest: no menu entry %q in %v", label, entries)
}
