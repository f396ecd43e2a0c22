package dbusenv

import (
	"maps"
	"testing"
)

type fakeEnv map[string]string

func (e fakeEnv) get(k string) string   { return e[k] }
func (e fakeEnv) set(k, v string) error { e[k] = v; return nil }

func TestSessionBus(t *testing.T) {
	tests := []struct {
		name    string
		env     fakeEnv
		sockets []string
		want    string
	}{
		{"address kept", fakeEnv{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, nil, "unix:path=/x"},
		{"runtime dir bus", fakeEnv{"XDG_RUNTIME_DIR": "/run/user/7"}, []string{"/run/user/7/bus"}, "unix:path=/run/user/7/bus"},
		{"headless: no autolaunch", fakeEnv{"XDG_RUNTIME_DIR": "/run/user/7"}, nil, NoBus},
		{"display: X11 autolaunch allowed", fakeEnv{"XDG_RUNTIME_DIR": "/run/user/7", "DISPLAY": ":0"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(tt.env)
			exists := func(p string) bool {
				for _, s := range tt.sockets {
					if s == p {
						return true
					}
				}
				return false
			}
			SessionBus(env.get, env.set, exists)
			if got := env["DBUS_SESSION_BUS_ADDRESS"]; got != tt.want {
				t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want %q", got, tt.want)
			}
		})
	}
}
