package main

// A user's keyboard and mouse for the tray app's windows under Xvfb: a
// minimal X11 client that types and clicks through the XTEST extension,
// which Xvfb has built in. It speaks the wire protocol itself (about a
// hundred lines) so the tests need no xdotool and no X bindings.

import (
	"bytes"
	wire "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// xInput is a connection to the display that fakes input.
type xInput struct {
	conn   net.Conn
	xtest  byte // the XTEST extension's major opcode
	minKey byte
	perKey int      // keysyms per keycode
	syms   []uint32 // the keyboard mapping from minKey on
}

// X11 core request opcodes, event types and keysyms used here.
const (
	xGetInputFocus      = 43
	xQueryExtension     = 98
	xGetKeyboardMapping = 101
	xtestFakeInput      = 2

	xKeyPress      = 2
	xKeyRelease    = 3
	xButtonPress   = 4
	xButtonRelease = 5
	xMotionNotify  = 6

	keysymShiftL = 0xffe1
)

// dialX connects to $DISPLAY with the MIT cookie from $XAUTHORITY (as
// xvfb-run sets them) and reads the keyboard mapping.
func dialX(t *testing.T) *xInput {
	t.Helper()
	m := regexp.MustCompile(`^:(\d+)(\.\d+)?$`).FindStringSubmatch(os.Getenv("DISPLAY"))
	if m == nil {
		t.Fatalf("DISPLAY=%q: want a local display such as :99", os.Getenv("DISPLAY"))
	}
	c, err := net.Dial("unix", "/tmp/.X11-unix/X"+m[1])
	if err != nil {
		t.Fatalf("connect to the X server: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(time.Minute))
	name, cookie := xCookie(os.Getenv("XAUTHORITY"), m[1])
	req := []byte{'l', 0}
	req = wire.LittleEndian.AppendUint16(req, 11)
	req = wire.LittleEndian.AppendUint16(req, 0)
	req = wire.LittleEndian.AppendUint16(req, uint16(len(name)))
	req = wire.LittleEndian.AppendUint16(req, uint16(len(cookie)))
	req = append(req, 0, 0)
	req = append(req, pad4([]byte(name))...)
	req = append(req, pad4(cookie)...)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatalf("X connection setup: %v", err)
	}
	rest := make([]byte, 4*int(wire.LittleEndian.Uint16(head[6:])))
	if _, err := io.ReadFull(c, rest); err != nil {
		t.Fatalf("X connection setup: %v", err)
	}
	if head[0] != 1 {
		t.Fatalf("the X server refused the connection: %s", rest[:min(int(head[1]), len(rest))])
	}
	x := &xInput{conn: c, minKey: rest[26]}
	maxKey := rest[27]

	ext := pad4([]byte("XTEST"))
	req = []byte{xQueryExtension, 0}
	req = wire.LittleEndian.AppendUint16(req, uint16(2+len(ext)/4))
	req = wire.LittleEndian.AppendUint16(req, 5)
	req = append(append(req, 0, 0), ext...)
	reply := x.roundTrip(t, req)
	if reply[8] == 0 {
		t.Fatal("the X server has no XTEST extension")
	}
	x.xtest = reply[9]

	count := maxKey - x.minKey + 1
	reply = x.roundTrip(t, []byte{xGetKeyboardMapping, 0, 2, 0, x.minKey, count, 0, 0})
	x.perKey = int(reply[1])
	for b := reply[32:]; len(b) >= 4; b = b[4:] {
		x.syms = append(x.syms, wire.LittleEndian.Uint32(b))
	}
	return x
}

// xCookie finds the MIT-MAGIC-COOKIE-1 for display number n in an
// Xauthority file; none (an X server without access control) if absent.
func xCookie(file, n string) (string, []byte) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", nil
	}
	field := func() []byte {
		if len(b) < 2 {
			b = nil
			return nil
		}
		l := int(wire.BigEndian.Uint16(b))
		if len(b) < 2+l {
			b = nil
			return nil
		}
		f := b[2 : 2+l]
		b = b[2+l:]
		return f
	}
	for len(b) > 2 {
		b = b[2:] // family
		field()   // address
		num, name, data := field(), field(), field()
		if b == nil {
			break
		}
		if (string(num) == n || len(num) == 0) && string(name) == "MIT-MAGIC-COOKIE-1" {
			return string(name), data
		}
	}
	return "", nil
}

func pad4(b []byte) []byte { return append(b, make([]byte, (4-len(b)%4)%4)...) }

// roundTrip sends a request that has a reply and returns the reply.
func (x *xInput) roundTrip(t *testing.T, req []byte) []byte {
	t.Helper()
	if _, err := x.conn.Write(req); err != nil {
		t.Fatal(err)
	}
	for {
		head := make([]byte, 32)
		if _, err := io.ReadFull(x.conn, head); err != nil {
			t.Fatalf("X reply to request %d: %v", req[0], err)
		}
		switch head[0] {
		case 0:
			t.Fatalf("X error %d for request %d (minor %d)", head[1], req[0], req[1])
		case 1:
			extra := make([]byte, 4*int(wire.LittleEndian.Uint32(head[4:])))
			if _, err := io.ReadFull(x.conn, extra); err != nil {
				t.Fatal(err)
			}
			return append(head, extra...)
		}
		// An event: none are selected, but skip any.
	}
}

// sync waits until the server has handled every request sent so far.
func (x *xInput) sync(t *testing.T) {
	t.Helper()
	x.roundTrip(t, []byte{xGetInputFocus, 0, 1, 0})
}

// fake sends one XTEST FakeInput event.
func (x *xInput) fake(t *testing.T, typ, detail byte, rootX, rootY int16) {
	t.Helper()
	req := make([]byte, 36)
	req[0], req[1] = x.xtest, xtestFakeInput
	wire.LittleEndian.PutUint16(req[2:], 9)
	req[4], req[5] = typ, detail
	wire.LittleEndian.PutUint16(req[24:], uint16(rootX))
	wire.LittleEndian.PutUint16(req[26:], uint16(rootY))
	if _, err := x.conn.Write(req); err != nil {
		t.Fatal(err)
	}
}

// keycode finds the key for a keysym and whether it needs Shift.
func (x *xInput) keycode(sym uint32) (code byte, shift bool, ok bool) {
	for col := 0; col < min(x.perKey, 2); col++ {
		for i := 0; i*x.perKey+col < len(x.syms); i++ {
			if x.syms[i*x.perKey+col] == sym {
				return x.minKey + byte(i), col == 1, true
			}
		}
	}
	return 0, false, false
}

// typeText types printable ASCII into the window that has the keyboard
// focus, a key at a time.
func (x *xInput) typeText(t *testing.T, s string) {
	t.Helper()
	shiftKey, _, ok := x.keycode(keysymShiftL)
	if !ok {
		t.Fatal("no Shift key in the X keyboard mapping")
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("typeText: %q is not printable ASCII", r)
		}
		code, shift, ok := x.keycode(uint32(r))
		if !ok {
			t.Fatalf("typeText: no key for %q", r)
		}
		if shift {
			x.fake(t, xKeyPress, shiftKey, 0, 0)
		}
		x.fake(t, xKeyPress, code, 0, 0)
		x.fake(t, xKeyRelease, code, 0, 0)
		if shift {
			x.fake(t, xKeyRelease, shiftKey, 0, 0)
		}
		x.sync(t)
		time.Sleep(5 * time.Millisecond) // one key per event-loop pass, as a person types
	}
}

// moveTo puts the pointer at a point of the screen.
func (x *xInput) moveTo(t *testing.T, px, py int) {
	t.Helper()
	x.fake(t, xMotionNotify, 0, int16(px), int16(py))
	x.sync(t)
}

// click clicks the left button at a point of the screen.
func (x *xInput) click(t *testing.T, px, py int) {
	t.Helper()
	x.moveTo(t, px, py)
	time.Sleep(50 * time.Millisecond) // let the window see the pointer arrive
	x.fake(t, xButtonPress, 1, 0, 0)
	x.sync(t)
	time.Sleep(20 * time.Millisecond)
	x.fake(t, xButtonRelease, 1, 0, 0)
	x.sync(t)
}

// xGeometry is a window's place on the screen.
type xGeometry struct{ X, Y, W, H int }

// windowGeometry asks xwininfo for the named window's place.
func windowGeometry(t *testing.T, name string) (xGeometry, error) {
	t.Helper()
	out, err := exec.Command("xwininfo", "-name", name).CombinedOutput()
	if err != nil {
		return xGeometry{}, fmt.Errorf("xwininfo -name %q: %v\n%s", name, err, out)
	}
	var g xGeometry
	for _, f := range []struct {
		label string
		v     *int
	}{{"Absolute upper-left X:", &g.X}, {"Absolute upper-left Y:", &g.Y}, {"Width:", &g.W}, {"Height:", &g.H}} {
		i := bytes.Index(out, []byte(f.label))
		if i < 0 {
			return g, fmt.Errorf("xwininfo -name %q: no %q in\n%s", name, f.label, out)
		}
		line, _, _ := strings.Cut(string(out[i+len(f.label):]), "\n")
		if *f.v, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
			return g, fmt.Errorf("xwininfo: %s %q: %v", f.label, line, err)
		}
	}
	if g.W <= 1 || g.H <= 1 {
		return g, errors.New("the window is not mapped yet")
	}
	return g, nil
}
