package connectors

import (
	"context"
	"errors"
	"net/http"
	"sync"
)

// AuthorCache remembers what a help desk's user directory says of the
// logins that write comments (a full name, a user id), so status sync
// reads each person once per connector rather than once per poll. The
// zero value is ready; safe for concurrent use.
type AuthorCache[V any] struct{ m sync.Map }

// Resolve returns a value for each non-empty login: cached ones as they
// are, the rest from one call of read. fill completes an author read did
// not name (v is then the zero V), typically with the login itself. A
// read refused for good (a permanent error other than 401: the account may
// not read the directory) is not an error: those logins get fill's value
// but stay uncached, so the next sync asks again.
func (c *AuthorCache[V]) Resolve(ctx context.Context, logins []string,
	read func(ctx context.Context, missing []string) (map[string]V, error),
	fill func(login string, v V) V) (map[string]V, error) {
	out := map[string]V{}
	var missing []string
	for _, l := range logins {
		if v, ok := c.m.Load(l); ok {
			out[l] = v.(V)
		} else if l != "" {
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	found, err := read(ctx, missing)
	var e *Error
	if err != nil && !(errors.As(err, &e) && e.Class == Permanent && e.Status != http.StatusUnauthorized) {
		return nil, err
	}
	for _, l := range missing {
		out[l] = fill(l, found[l])
		if err == nil {
			c.m.Store(l, out[l])
		}
	}
	return out, nil
}
