// Package procenv gives the process a locale Fyne can parse before Fyne's
// own init reads it. main imports it for that side effect.
//
// Go initialises packages in import-path order as soon as their imports
// are ready. This package needs only the standard library, and its path
// sorts before golang.org/x/text, which Fyne's lang package waits for, so
// its init runs first.
package procenv

import (
	"os"
	"strings"
)

func init() { Locale(os.Getenv, os.Setenv, os.Unsetenv) }

// Locale fixes what Fyne cannot parse: under LANG=C (services, containers,
// CI) Fyne's lang package logs "Error parsing user locale C" from its init,
// on every run. Unparseable variables (C, POSIX, C.UTF-8) are dropped and,
// when no usable one is left, LANG is set to English UTF-8.
func Locale(getenv func(string) string, setenv func(string, string) error, unsetenv func(string) error) {
	found := false
	for _, k := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		v := strings.ToUpper(getenv(k))
		switch {
		case v == "":
		case v == "C" || v == "POSIX" || strings.HasPrefix(v, "C."):
			unsetenv(k)
		default:
			found = true
		}
	}
	if !found {
		setenv("LANG", "en_US.UTF-8")
	}
}
