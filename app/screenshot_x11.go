//go:build linux || freebsd || openbsd || netbsd

package app

import (
	"fmt"
	"os"
	"time"

	"github.com/jezek/xgb"
)

// holdDisplay keeps a connection to the X display open while the library
// opens and closes its own, one per call: when the last client leaves, an
// X server without a desktop on it (Xvfb, a kiosk) resets, and a call that
// comes during the reset finds no screen (under Xvfb 9 captures in 30
// failed so). The returned func lets go.
func holdDisplay() (release func(), err error) {
	c, err := connectX()
	if err != nil {
		return nil, err
	}
	return c.Close, nil
}

// connectX connects to $DISPLAY. The connection may come during a reset
// that the previous capture caused; the server takes clients again within
// milliseconds, so it is tried a few times.
func connectX() (*xgb.Conn, error) {
	for attempt := 1; ; attempt++ {
		c, err := xgb.NewConn()
		if err == nil {
			return c, nil
		}
		if attempt == 5 {
			return nil, fmt.Errorf("%w: cannot connect to the X display %q: %v", ErrNoScreen, os.Getenv("DISPLAY"), err)
		}
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
}
