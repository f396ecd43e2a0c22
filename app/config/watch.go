package config

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Live reload polls instead of using inotify/FSEvents/ReadDirectoryChanges:
// MDM tools replace files in every way there is (rename over, truncate
// and write, remove and recreate the directory, bind mounts, network
// shares), which change notifications miss in one case or another, and
// polling behaves the same on every OS. Every Interval the watcher hashes
// the content of each file a load would read (a few kilobytes); a change
// reloads all layers.

// DefaultWatchInterval is how often the watcher looks.
const DefaultWatchInterval = 2 * time.Second

// WatchOptions configure Watch.
type WatchOptions struct {
	// Since is the fingerprint of the config the caller has in force
	// (Loaded.Fingerprint); zero means the files as they are now.
	Since    [32]byte
	Interval time.Duration    // default DefaultWatchInterval
	Tick     <-chan time.Time // tests drive the watcher with their own ticks
	ticked   chan<- struct{}  // tests: told when a tick has been handled
}

// Watch reloads the layers whenever one of their files changes, until ctx
// ends. onChange gets the new config, or the error that rejected it: the
// caller keeps the last good config in force and shows the error. Files
// the reload itself rewrites (secret migration) do not trigger another
// reload.
func Watch(ctx context.Context, o LoadOptions, w WatchOptions, onChange func(*Loaded, error)) {
	tick := w.Tick
	if tick == nil {
		every := w.Interval
		if every <= 0 {
			every = DefaultWatchInterval
		}
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	last := w.Since
	if last == ([32]byte{}) {
		last = o.Fingerprint()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		if fp := o.Fingerprint(); fp != last {
			l, err := LoadLayers(o)
			last = o.Fingerprint() // after the load: it may have rewritten a file
			onChange(l, err)
		}
		if w.ticked != nil {
			w.ticked <- struct{}{}
		}
	}
}

// Fingerprint hashes the names and contents of every file a load reads,
// so any change to any of them changes it.
func (o LoadOptions) Fingerprint() [32]byte {
	var paths []string
	if o.ConfigFile != "" {
		paths = append(paths, o.ConfigFile)
	} else if o.UserFile != "" {
		paths = append(paths, o.UserFile)
	}
	if o.ManagedDir != "" {
		main := filepath.Join(o.ManagedDir, "config.json")
		paths = append(paths, main, main+SigSuffix, filepath.Join(o.ManagedDir, PublicKeyFile))
		drop, _ := filepath.Glob(filepath.Join(o.ManagedDir, "config.d", "*.json"))
		sort.Strings(drop)
		for _, p := range drop {
			paths = append(paths, p, p+SigSuffix)
		}
	}
	h := sha256.New()
	for _, p := range paths {
		h.Write([]byte(p))
		h.Write([]byte{0})
		if data, err := os.ReadFile(p); err == nil {
			h.Write([]byte{1})
			sum := sha256.Sum256(data)
			h.Write(sum[:])
		}
		h.Write([]byte{0})
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
