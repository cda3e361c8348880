package config

import (
	"strings"
	"testing"
	"time"
)

func TestWebSubKeys(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"off by default", `{}`, ""},
		{"valid", `{websub: {callback_base_url: "https://news.example.org/nw", lease_seconds: 3600, fallback_interval: 30m}}`, ""},
		{"not a URL", `{websub: {callback_base_url: "news.example.org"}}`, `websub.callback_base_url: "news.example.org" is not an absolute http(s) URL`},
		{"ftp", `{websub: {callback_base_url: "ftp://news.example.org"}}`, "is not an absolute http(s) URL"},
		{"query", `{websub: {callback_base_url: "https://news.example.org/?a=1"}}`, "without credentials, query or fragment"},
		{"credentials redacted", `{websub: {callback_base_url: "https://u:pw@news.example.org/"}}`, `"https://<redacted>@news.example.org/"`},
		{"needs the HTTP server", `{http: {listen: ""}, websub: {callback_base_url: "https://news.example.org"}}`, "set http.listen"},
		{"lease too short", `{websub: {lease_seconds: 10}}`, "websub.lease_seconds: must be 0 (the default, 864000) or between 60 and 31536000, got 10"},
		{"fallback too often", `{websub: {fallback_interval: 10s}}`, "websub.fallback_interval: must be 0 (the default, 1h) or between 1m0s and 1h0m0s, got 10s"},
		{"fallback too rare", `{websub: {fallback_interval: 48h}}`, "websub.fallback_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "t.yaml")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(tc.yaml, "callback") != c.WebSub.Enabled() {
					t.Errorf("Enabled() = %v", c.WebSub.Enabled())
				}
				if tc.name == "valid" && (c.WebSub.LeaseSeconds != 3600 || c.WebSub.FallbackInterval != 30*time.Minute) {
					t.Errorf("decoded %+v", c.WebSub)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
