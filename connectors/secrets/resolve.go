package secrets

import (
	"fmt"
	"strings"
)

// Getter reads one item from a keyring.
type Getter interface {
	Get(name string) ([]byte, error)
}

// Resolve turns a config secret reference into its value: "env:NAME"
// reads the environment, "keyring:NAME" the keyring, anything else is a
// literal. Errors name the reference, never the value.
func Resolve(ref string, getenv func(string) string, ring Getter) (string, error) {
	switch {
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		v := getenv(name)
		if v == "" {
			return "", fmt.Errorf("secret %s: environment variable %s is not set", ref, name)
		}
		return v, nil
	case strings.HasPrefix(ref, "keyring:"):
		if ring == nil {
			return "", fmt.Errorf("secret %s: no keyring is available", ref)
		}
		v, err := ring.Get(strings.TrimPrefix(ref, "keyring:"))
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", ref, err)
		}
		return string(v), nil
	}
	return ref, nil
}
