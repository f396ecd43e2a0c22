package config

import (
	"errors"
	"strings"
	"testing"
)

func TestRedactionAndSkillsValid(t *testing.T) {
	c, err := Parse("f.json", []byte(`{"version": 1,
		"redaction": {"drop": ["network.mac", "user"], "hash": ["deviceName", "network.addresses"]},
		"skills": [
			{"id": "vpn-status", "name": "VPN status", "program": "/opt/it/vpnctl", "args": ["status"], "readOnly": true, "os": ["linux", "darwin"]},
			{"id": "gpupdate", "program": "gpupdate", "args": ["/force"], "os": ["windows"], "requiresAdmin": true, "requiresConfirmation": true, "timeoutMs": 120000},
			{"id": "fix-outlook", "program": "C:\\IT\\fix-outlook.exe"}
		]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Redaction.Drop, ",") + "|" + strings.Join(c.Redaction.Hash, ","); got != "network.mac,user|deviceName,network.addresses" {
		t.Errorf("redaction = %+v", c.Redaction)
	}
	if len(c.Skills) != 3 || !c.Skills[0].ReadOnly || !c.Skills[1].RequiresConfirmation {
		t.Errorf("skills = %+v", c.Skills)
	}
}

func TestRedactionAndSkillsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"unknown redaction path", `{"version":1,"redaction":{"drop":["network.macs"],"hash":["hostname"]}}`,
			[]string{`redaction.drop[0]: unknown field "network.macs"; known: deviceName,`, `redaction.hash[0]: unknown field "hostname"`}},
		{"hash of a field that is not text", `{"version":1,"redaction":{"hash":["battery"]}}`,
			[]string{`redaction.hash[0]: "battery" is not text and can only be dropped`}},
		{"dropped and hashed", `{"version":1,"redaction":{"drop":["user"],"hash":["user"]}}`,
			[]string{`redaction.hash[0]: "user" is also in drop`}},
		{"unknown redaction key", `{"version":1,"redaction":{"remove":["user"]}}`,
			[]string{`unknown key "remove"`}},
		{"skill rules", `{"version":1,"skills":[
			{"id":"Fix VPN","program":"./fix.sh","os":["macos"],"timeoutMs":3600000},
			{"id":"dns-flush","program":"x"},
			{"id":"ok","program":"x"},{"id":"ok","program":"y"}]}`,
			[]string{
				"skills[0].id: must be 1 to 64 lower-case letters",
				"skills[0].program: must be an absolute path or a bare program name",
				"skills[0].timeoutMs: must be between",
				"skills[0].os[0]: must be one of linux, darwin, windows",
				`skills[1].id: "dns-flush" is a built-in skill`,
				`skills[3].id: duplicates an earlier skill id "ok"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.json", []byte(tt.in))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want *config.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
