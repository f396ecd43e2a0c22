package procenv

import (
	"maps"
	"testing"
)

type fakeEnv map[string]string

func (e fakeEnv) get(k string) string   { return e[k] }
func (e fakeEnv) set(k, v string) error { e[k] = v; return nil }
func (e fakeEnv) unset(k string) error  { delete(e, k); return nil }

func TestLocale(t *testing.T) {
	tests := []struct {
		name      string
		env, want fakeEnv
	}{
		{"unset", fakeEnv{}, fakeEnv{"LANG": "en_US.UTF-8"}},
		{"C", fakeEnv{"LANG": "C"}, fakeEnv{"LANG": "en_US.UTF-8"}},
		{"LC_ALL=POSIX over good LANG", fakeEnv{"LC_ALL": "POSIX", "LANG": "de_DE.UTF-8"}, fakeEnv{"LANG": "de_DE.UTF-8"}},
		{"C.UTF-8", fakeEnv{"LANG": "C.UTF-8"}, fakeEnv{"LANG": "en_US.UTF-8"}},
		{"good kept", fakeEnv{"LANG": "fr_FR.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, fakeEnv{"LANG": "fr_FR.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(tt.env)
			Locale(env.get, env.set, env.unset)
			if !maps.Equal(env, tt.want) {
				t.Errorf("env = %v, want %v", env, tt.want)
			}
		})
	}
}
