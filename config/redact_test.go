package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestRedacted(t *testing.T) {
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Feeds[0].URL = "https://reader:pw@feeds.example/rss?apikey=k1&lang=en&keywords=korea#top"
	r := c.Redacted()

	tests := []struct{ name, got, want string }{
		{"nats url", r.NATS.URL, "nats://<redacted>@a.example:4222,tls://b.example:4443"},
		{"nats password", r.NATS.Password, "<redacted>"},
		{"nats user", r.NATS.User, "newswatch"},
		{"empty token stays empty", r.NATS.Token, ""},
		{"feed url", r.Feeds[0].URL, "https://<redacted>@feeds.example/rss?apikey=<redacted>&lang=en&keywords=korea#top"},
		{"webhook url", r.Notify[0].URL, "https://hooks.example/newswatch?token=<redacted>&topic=x"},
		{"webhook secret", r.Notify[0].Secret, "<redacted>"},
		{"slack url", r.Notify[1].URL, "https://hooks.slack.com/<redacted>"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}

	// No secret may survive anywhere in a printout.
	printed := fmt.Sprintf("%+v", *r)
	for _, secret := range []string{"hunter2", "s3cret", ":pw@", "abc", "k1", "XXXX"} {
		if strings.Contains(printed, secret) {
			t.Errorf("redacted config still contains %q:\n%s", secret, printed)
		}
	}

	// The original is untouched, including shared-looking slices.
	if c.NATS.Password != "hunter2" || c.Notify[0].Secret != "s3cret" {
		t.Error("Redacted modified the original")
	}
	r.Notify[0].Topics[0] = "changed"
	r.Topics[0].Examples.Match[0].Text = "changed"
	if c.Notify[0].Topics[0] != "dprk-russia" || c.Topics[0].Examples.Match[0].Text == "changed" {
		t.Error("Redacted shares slices with the original")
	}
	if r.File() != c.File() {
		t.Errorf("File() = %q, want %q", r.File(), c.File())
	}
	if _, _, ok := r.Position("notify[0].secret"); !ok {
		t.Error("Redacted dropped positions")
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://example.com/rss", "https://example.com/rss"},
		{"https://u@example.com", "https://<redacted>@example.com"},
		{"user:pass@host:4222", "<redacted>@host:4222"},
		{"https://example.com/a@b", "https://example.com/a@b"},
		{"https://x/?sig=1&signature=2&auth=3&design=4", "https://x/?sig=<redacted>&signature=<redacted>&auth=<redacted>&design=4"},
		{"::not a url:@x", "<redacted>@x"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactedEmailPassword(t *testing.T) {
	c, err := Parse([]byte(`data_dir: /tmp/x
notify:
  - {type: email, smtp: "mail.example:587", from: a@example.org, to: [b@example.org], username: u, password: hunter2}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	if r.Notify[0].Password == "hunter2" || c.Notify[0].Password != "hunter2" {
		t.Errorf("redacted password %q, original %q", r.Notify[0].Password, c.Notify[0].Password)
	}
	r.Notify[0].To[0] = "changed"
	if c.Notify[0].To[0] != "b@example.org" {
		t.Error("Redacted shares the to list with the original")
	}
}
