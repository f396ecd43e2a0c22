// Package assets embeds Ticketray's icons. The SVG files are the sources;
// the PNGs are rendered from them with rsvg-convert (see Makefile: icons).
package assets

import _ "embed"

// Icon is the application icon (512×512).
//
//go:embed icon.png
var Icon []byte

// Tray icons for each state the tray shows.
var (
	//go:embed tray-online.png
	TrayOnline []byte
	//go:embed tray-offline.png
	TrayOffline []byte
	//go:embed tray-attention.png
	TrayAttention []byte
)
