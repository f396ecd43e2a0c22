package config

import (
	"errors"
	"strings"
	"testing"
)

const valid = `{
  "version": 1,
  "categories": ["Network", "Hardware"],
  "connections": [{
    "name": "Production ServiceNow",
    "type": "servicenow",
    "baseUrl": "https://your-instance.service-now.com",
    "credentials": {"type": "basic", "username": "svc", "password": "env:SN_PASSWORD"},
    "enabled": true,
    "defaultPriority": "medium",
    "defaultCategory": "IT Support",
    "timeoutMs": 30000,
    "maxRetries": 3,
    "mappings": {"priority": {"critical": "1", "high": "2", "default": "3"}},
    "options": {"assignmentGroup": "Service Desk"}
  }, {
    "name": "Local Jira",
    "type": "jira",
    "baseUrl": "http://127.0.0.1:8080",
    "enabled": false,
    "options": {"projectKey": "IT", "issueType": "Task"},
    "credentials": {"type": "oauth2", "clientId": "id", "clientSecret": "keyring:jira-secret", "tokenUrl": "https://auth.example.com/token", "grant": "client_credentials"}
  }],
  "skills": [{"id": "net-check", "name": "Network check", "program": "/usr/bin/ping", "args": ["-c", "1", "example.com"], "timeoutMs": 5000}]
}`

func TestParseValid(t *testing.T) {
	c, err := Parse("valid.json", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Connections) != 2 || c.Connections[0].TimeoutMs != 30000 || *c.Connections[0].MaxRetries != 3 {
		t.Errorf("connections = %+v", c.Connections)
	}
	if en := c.Enabled(); len(en) != 1 || en[0].Name != "Production ServiceNow" {
		t.Errorf("Enabled() = %+v", en)
	}
	if c.Skills[0].Args[2] != "example.com" {
		t.Errorf("skills = %+v", c.Skills)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each must appear in the error text
	}{
		{"syntax", "{\n  \"version\": 1,\n  \"connections\": [,]\n}", []string{"f.json:3:", "syntax error"}},
		{"empty", "", []string{"f.json:1:1: the file is empty"}},
		{"trailing", `{"version":1} {}`, []string{"unexpected data"}},
		{"unknown top-level key", "{\n\"version\": 1,\n\"skils\": []\n}", []string{`f.json:3:1: unknown key "skils"`}},
		{"unknown nested key", `{"version":1,"connections":[{"name":"a","type":"jira","baseUrl":"https://x","credentials":{"type":"bearer","token":"t"},"timeout":5}]}`, []string{`unknown key "timeout"`}},
		{"wrong type", `{"version":"1"}`, []string{"version: must be int"}},
		{"version", `{"version":2}`, []string{"version: must be 1"}},
		{"every connection error at once", `{"version":1,"connections":[
			{"name":"","type":"remedy","baseUrl":"http://example.com","credentials":{"type":"basic"},"defaultPriority":"p1","timeoutMs":-1,"maxRetries":1000,"mappings":{"colour":{}}},
			{"name":"x","type":"jira","baseUrl":"ftp://x","credentials":{"type":"oauth2","clientId":"c","tokenUrl":"http://evil.example/t","grant":"password"}},
			{"name":"x","type":"jira","baseUrl":"https://x","credentials":{"type":"token"}}]}`,
			[]string{
				"connections[0].name: is required",
				"connections[0].type: must be one of",
				"connections[0].baseUrl: must use https (http is allowed only for loopback hosts)",
				"connections[0].credentials.username: is required",
				"connections[0].credentials.password: is required",
				"connections[0].defaultPriority:",
				"connections[0].timeoutMs:",
				"connections[0].maxRetries:",
				"connections[0].mappings.colour:",
				"connections[1].baseUrl: must use https",
				"connections[1].credentials.grant:",
				"connections[1].credentials.tokenUrl: must use https",
				"connections[2].name: duplicates",
				"connections[2].credentials.type:",
			}},
		{"skills", `{"version":1,"skills":[{"id":"a","program":"x"},{"id":"a"}]}`, []string{"skills[1].id: duplicates", "skills[1].program: is required"}},
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

func TestSecretsNotInErrors(t *testing.T) {
	_, err := Parse("f.json", []byte(`{"version":1,"connections":[{"name":"a","type":"jira","baseUrl":"http://example.com","credentials":{"type":"basic","username":"u","password":"hunter2-literal"}}]}`))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error = %v", err)
	}
}
