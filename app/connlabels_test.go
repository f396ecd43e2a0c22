package app

import (
	"testing"

	"github.com/ticketray/ticketray/connectors"
)

// Every registered connector type and every credentials type has a name
// for people: a new vendor or sign-in kind without one would show its
// config word in Settings.
func TestConnectionTypeLabels(t *testing.T) {
	seen := map[string]string{}
	for _, typ := range connectors.Registered() {
		l := TypeLabel(typ)
		if l == typ {
			t.Errorf("connector type %q has no display name", typ)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("types %q and %q are both shown as %q", other, typ, l)
		}
		seen[l] = typ
	}
	seen = map[string]string{}
	for _, ct := range credentialTypes {
		l := CredentialTypeLabel(ct)
		if l == ct {
			t.Errorf("credentials type %q has no display name", ct)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("credentials types %q and %q are both shown as %q", other, ct, l)
		}
		seen[l] = ct
	}
	for _, tc := range []struct{ in, want string }{
		{"servicenow", "ServiceNow"},
		{"bmc_helix", "BMC Helix"},
		{"homegrown", "homegrown"}, // unknown: as it is
	} {
		if got := TypeLabel(tc.in); got != tc.want {
			t.Errorf("TypeLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := CredentialTypeLabel("basic"); got != "Basic (user + password)" {
		t.Errorf("CredentialTypeLabel(basic) = %q", got)
	}
}
