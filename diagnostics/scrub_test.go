package diagnostics

import (
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string // must be gone
		keep    []string // must survive
	}{
		{"curl -v with a bearer token",
			"*   Trying 203.0.113.7:443...\n> GET /api/now/table/incident HTTP/1.1\n> Host: acme.service-now.com\n> Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJlLXNpZw\n> User-Agent: curl/8.5.0\n< HTTP/1.1 200 OK\n< Set-Cookie: JSESSIONID=8A3F00C1D2E3; Path=/; Secure\n",
			[]string{"eyJhbGciOiJSUzI1NiJ9", "c2lnbmF0dXJlLXNpZw", "8A3F00C1D2E3"},
			[]string{"> Host: acme.service-now.com", "> Authorization: [REDACTED]", "HTTP/1.1 200 OK", "User-Agent: curl/8.5.0"}},
		{"basic auth header inline in JSON",
			`{"headers": {"Authorization": "Basic c3ZjOmh1bnRlcjI=", "Accept": "application/json"}}`,
			[]string{"c3ZjOmh1bnRlcjI="},
			[]string{`"Accept": "application/json"`}},
		{"proxy environment with user:pass",
			"HTTPS_PROXY=http://bob:Hunter2!@proxy.corp.example.com:3128\nNO_PROXY=localhost,127.0.0.1,.corp.example.com\n",
			[]string{"Hunter2!"},
			[]string{"http://bob:[REDACTED]@proxy.corp.example.com:3128", "NO_PROXY=localhost,127.0.0.1,.corp.example.com"}},
		{"git remote with a GitHub token",
			"origin\thttps://x-access-token:ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/acme/tools.git (fetch)\ntoken ghp_0123456789abcdefghijABCDEFGHIJ012345 used",
			[]string{"ghp_0123456789abcdefghijABCDEFGHIJ012345"},
			[]string{"github.com/acme/tools.git (fetch)"}},
		{"config dump with key=value and JSON secrets",
			"db_password=s3cr3t-Pa55\nclient_secret: 'abc123-def'\n\"api_key\": \"AKxyz-0987\",\n\"apiToken\":\"tok-555\"\npassword_hint=ask Bob\nusername=svc-ticketray\n",
			[]string{"s3cr3t-Pa55", "abc123-def", "AKxyz-0987", "tok-555"},
			[]string{"password_hint=ask Bob", "username=svc-ticketray", `"api_key": "[REDACTED]"`}},
		{"nmcli Wi-Fi profile with the PSK",
			"connection.id:                          CorpWiFi\n802-11-wireless.ssid:                   CorpWiFi\n802-11-wireless-security.key-mgmt:      wpa-psk\n802-11-wireless-security.psk:           correct-horse-battery\n",
			[]string{"correct-horse-battery"},
			[]string{"802-11-wireless.ssid:                   CorpWiFi", "key-mgmt:      wpa-psk"}},
		{"netsh wlan show profile key=clear",
			"Security settings\r\n-----------------\r\n    Authentication         : WPA2-Personal\r\n    Cipher                 : CCMP\r\n    Security key           : Present\r\n    Key Content            : S3cretWifiPass\r\n",
			[]string{"S3cretWifiPass"},
			[]string{"Authentication         : WPA2-Personal", "Security key           : Present"}},
		{"URL query tokens and signatures",
			"GET https://files.example.com/report.pdf?X-Amz-Signature=abcdef0123&sig=9f8e7d&access_token=ya29.a0AfH6SM&page=2",
			[]string{"9f8e7d", "ya29.a0AfH6SM"},
			[]string{"page=2", "files.example.com/report.pdf"}},
		{"AWS, Slack and Stripe keys in a log",
			"using AKIAIOSFODNN7EXAMPLE for s3; webhook xoxb-123456789012-abcdefABCDEF; charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc",
			[]string{"AKIAIOSFODNN7EXAMPLE", "xoxb-123456789012-abcdefABCDEF", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"},
			[]string{"for s3; webhook"}},
		{"private key block",
			"key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ\n-----END OPENSSH PRIVATE KEY-----\ndone",
			[]string{"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "AAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ"},
			[]string{"done", "[REDACTED PRIVATE KEY]"}},
		{"ordinary diagnostics output is untouched",
			"Pinging 192.168.1.1 with 32 bytes of data:\nReply from 192.168.1.1: bytes=32 time=2ms TTL=64\n/dev/vda  ext4  77.4 GiB free\n",
			nil,
			[]string{"Pinging 192.168.1.1 with 32 bytes of data:\nReply from 192.168.1.1: bytes=32 time=2ms TTL=64\n/dev/vda  ext4  77.4 GiB free\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Scrub(tt.in)
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("secret %q survived:\n%s", s, got)
				}
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("lost %q:\n%s", k, got)
				}
			}
			if again := Scrub(got); again != got {
				t.Errorf("not idempotent:\n%s\n---\n%s", got, again)
			}
		})
	}
}
