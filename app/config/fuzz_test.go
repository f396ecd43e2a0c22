package config

import (
	"strings"
	"testing"
)

// FuzzParse: the loader never panics, every problem it reports is
// located in the file, and no error repeats a literal secret.
// Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	const secret = "fuzz-secret-value"
	f.Add([]byte(valid))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.json", data)
		if err == nil {
			if c == nil || c.Version != Version {
				t.Fatalf("accepted without version %d: %+v", Version, c)
			}
			_ = c.Redacted()
			return
		}
		ce, ok := err.(*Error)
		if !ok || len(ce.Problems) == 0 {
			t.Fatalf("error %T %v is not a *Error with problems", err, err)
		}
		for _, p := range ce.Problems {
			if p.File != "f.json" || p.Msg == "" || p.Line < 0 || p.Column < 0 {
				t.Fatalf("badly located problem %+v", p)
			}
		}
		// A value in a secret field is never echoed (the same text used as
		// a key is not a secret, and may be).
		if strings.Count(string(data), secret) == 1 && strings.Contains(string(data), `"password":"`+secret) && strings.Contains(err.Error(), secret) {
			t.Fatalf("error repeats a secret: %v", err)
		}
		if _, err := ParseFragment("f.json", data); err != nil && !strings.HasPrefix(err.Error(), "invalid config:") {
			t.Fatalf("fragment error %v is not a config error", err)
		}
	})
}
