package gui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/delivery"
)

// Health light colours.
var (
	lightGreen    = color.NRGBA{R: 0x2e, G: 0x9d, B: 0x4a, A: 0xff}
	lightAmber    = color.NRGBA{R: 0xf2, G: 0xa9, B: 0x00, A: 0xff}
	lightRed      = color.NRGBA{R: 0xd3, G: 0x2f, B: 0x2f, A: 0xff}
	lightRedAmber = color.NRGBA{R: 0xe8, G: 0x5d, B: 0x10, A: 0xff}
	lightGrey     = color.NRGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff}
)

// healthLight is the colour of a connection's light: healthy green,
// degraded amber, down, failing and misconfigured red, breaker open
// red-amber, anything else (never seen, disabled) grey.
func healthLight(state string) color.NRGBA {
	switch state {
	case delivery.Healthy:
		return lightGreen
	case delivery.Degraded:
		return lightAmber
	case delivery.Down, delivery.Failing, delivery.Misconfigured, delivery.SignInRequired:
		return lightRed
	case delivery.BreakerOpen:
		return lightRedAmber
	}
	return lightGrey
}

// healthWords explains a state to someone who has not read the docs.
func healthWords(state string) string {
	switch state {
	case delivery.Healthy:
		return "healthy"
	case delivery.Degraded:
		return "degraded: failures, retrying"
	case delivery.Down:
		return "down: not reachable"
	case delivery.Failing:
		return "failing: the help desk refuses the tickets"
	case delivery.Misconfigured:
		return "misconfigured: not delivering — tell IT"
	case delivery.SignInRequired:
		return "sign-in required: not delivering until someone signs in"
	case delivery.BreakerOpen:
		return "resting after repeated failures"
	case app.Disabled:
		return "disabled"
	}
	return "unknown: nothing sent yet"
}

// lockIcon marks settings IT has locked (Material Design "lock", Apache
// 2.0), tinted like the theme's other icons.
var lockIcon fyne.Resource = theme.NewThemedResource(fyne.NewStaticResource("lock.svg", []byte(
	`<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24"><path fill="#000000" d="M18 8h-1V6c0-2.76-2.24-5-5-5S7 3.24 7 6v2H6c-1.1 0-2 .9-2 2v10c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V10c0-1.1-.9-2-2-2zm-6 9c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2zm3.1-9H8.9V6c0-1.71 1.39-3.1 3.1-3.1 1.71 0 3.1 1.39 3.1 3.1v2z"/></svg>`)))
