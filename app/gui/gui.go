// Package gui is Ticketray's desktop face: the tray icon and menu
// (tray.go, systray.go) and the Fyne windows (windows.go and the views),
// which run in two processes (child.go says why and how they talk). It is
// a thin layer: every action calls the headless app core, and each has a
// CLI twin.
package gui

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/layout"
	"github.com/godbus/dbus/v5"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/config"
	"github.com/ticketray/ticketray/assets"
)

// AppID identifies Ticketray to Fyne (preferences, notifications).
const AppID = "io.ticketray.Ticketray"

var icons = map[string]fyne.Resource{
	"online":    fyne.NewStaticResource("tray-online.png", assets.TrayOnline),
	"offline":   fyne.NewStaticResource("tray-offline.png", assets.TrayOffline),
	"attention": fyne.NewStaticResource("tray-attention.png", assets.TrayAttention),
}

// Run starts the tray app and blocks until Quit or ctx ends. In the
// windows process (EnvWindowsProcess set by the tray process) it shows
// windows instead: see tray.go and child.go for why there are two.
func Run(ctx context.Context, svc *app.Service, env app.Env) error {
	a := fyneapp.NewWithID(AppID)
	keepPreferencesInMemory(a)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	if env.Getenv(EnvWindowsProcess) == "1" {
		return runWindows(ctx, a, svc, env, os.Stdin, os.Stdout)
	}
	app.ApplyAutostartPolicy(svc.Loaded, env) // IT's policy.autostart, applied at each tray start
	windows := &windowsProc{start: startExec(env.Stderr), linger: lingerFor,
		logf: func(format string, args ...any) { fmt.Fprintf(env.Stderr, format+"\n", args...) }}
	tray := headless
	if trayHostPresent() {
		tray = systrayTray
	}
	return runTray(ctx, a, svc, env, windows, tray)
}

// keepPreferencesInMemory stops Fyne from ever writing its preferences
// file: Ticketray keeps nothing there (only Fyne's file dialog remembers
// its last folder, now for the life of the windows process).
//
// Fyne rewrites the file when the app stops, truncating it first, while
// its own watcher (and the other Ticketray process's, which shares AppID)
// may read it at that moment and log "Preferences load error: EOF"
// (fyne-io/fyne#2936). The ID stays: without one Fyne logs an error
// whenever UniqueID is asked for (the file dialog, the icon cache), and
// notifications use it. Replacing the preferences store through Fyne's
// provider hook is its public way to keep them elsewhere; Fyne saves
// only its own file-backed store, at a change or at stop, so with this
// no Ticketray process writes the file.
func keepPreferencesInMemory(a fyne.App) { a.SetCloudProvider(memoryPreferences{}) }

// memoryPreferences provides Fyne's preferences from memory (see
// keepPreferencesInMemory).
type memoryPreferences struct{}

var _ fyne.CloudProviderPreferences = memoryPreferences{}

func (memoryPreferences) ProviderName() string { return "memory" }
func (memoryPreferences) ProviderDescription() string {
	return "Preferences kept in memory, never written"
}
func (memoryPreferences) ProviderIcon() fyne.Resource { return nil }
func (memoryPreferences) Setup(fyne.App) error        { return nil }
func (memoryPreferences) Cleanup(fyne.App)            {}

// CloudPreferences keeps the values Fyne loaded at start and any set
// since, in memory: Fyne's store saves only while it is the app's own.
func (memoryPreferences) CloudPreferences(a fyne.App) fyne.Preferences {
	return inMemoryPreferences{a.Preferences()}
}

type inMemoryPreferences struct{ fyne.Preferences }

// brandName is IT's name for the app, or Ticketray.
func brandName(svc *app.Service) string {
	if n := svc.Config.Branding.AppName; n != "" {
		return n
	}
	return "Ticketray"
}

// trayHostPresent reports whether a StatusNotifier host can show our icon.
// Only Linux and the BSDs can lack one.
func trayHostPresent() bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return true
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false // and do not let godbus autolaunch a bus just to ask
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// helpItem is the branding's "Get help" entry: the support contact, opening
// the support URL (https: or mailto:) when there is one.
func helpItem(a fyne.App, b config.Branding) *fyne.MenuItem {
	if b.SupportContact == "" && b.SupportURL == "" {
		return nil
	}
	label := "Get help"
	if b.SupportContact != "" {
		label += ": " + b.SupportContact
	}
	it := fyne.NewMenuItem(label, nil)
	if u, err := url.Parse(b.SupportURL); err == nil && b.SupportURL != "" {
		it.Action = func() { a.OpenURL(u) }
	} else {
		it.Disabled = true
	}
	return it
}
