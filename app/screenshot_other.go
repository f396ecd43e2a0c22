//go:build !(linux || freebsd || openbsd || netbsd)

package app

// holdDisplay has nothing to hold where screens are not served by X.
func holdDisplay() (release func(), err error) { return func() {}, nil }
