package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadFull(t *testing.T) {
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir: "/var/lib/newswatch",
		NATS: NATS{
			URL:  "nats://user:pw@a.example:4222,tls://b.example:4443",
			User: "newswatch", Password: "hunter2",
			TLS: TLS{
				CA: "/etc/newswatch/ca.pem", Cert: "/etc/newswatch/client.pem",
				Key: "/etc/newswatch/client.key", ServerName: "nats.example",
			},
			Replicas: 3,
		},
		HTTP: HTTP{Listen: "0.0.0.0:9090"},
		Fetch: Fetch{
			AllowPrivateNetworks: true, Timeout: 45 * time.Second, MaxBodyBytes: 2 << 20,
			PerHostConcurrency: 4, UserAgent: "newswatch-test/1.0",
			AllowNetworks: []string{"10.20.0.0/16", "fd00::/8"},
		},
		Log: Log{Level: "debug", Format: "json"},
		Feeds: []Feed{{
			ID: "guardian-world", Name: "The Guardian – World news",
			URL: "https://www.theguardian.com/world/rss", Schedule: "*/10 * * * *",
		}},
		Topics: []Topic{{
			ID: "dprk-russia", Name: "DPRK–Russia military cooperation", Query: `"North Korea" AND Russia`,
			Examples: Examples{
				Match:   []Example{{Name: "inline", Title: "Pyongyang sends troops", Text: "North Korea and Russia sign a military pact."}},
				NoMatch: []Example{{Name: "on-disk", File: "full.yaml"}},
			},
		}},
		Alerts: []Alert{
			{Topic: "dprk-russia", Kind: "match", GroupWait: 30 * time.Second, MinInterval: 10 * time.Minute},
			{Topic: "dprk-russia", Kind: "spike", Window: time.Hour, Threshold: 2.5, MinSources: 3, Cooldown: 6 * time.Hour, TimeZone: "Asia/Seoul"},
			{Topic: "dprk-russia", Kind: "digest", Schedule: "0 8 * * *", SendEmpty: true, Top: 5},
		},
		Notify: []Notify{
			{Name: "ops", Type: "webhook", URL: "https://hooks.example/newswatch?token=abc&topic=x", Secret: "s3cret", Topics: []string{"dprk-russia"}},
			{Name: "slack-1", Type: "slack", URL: "https://hooks.slack.com/services/T000/B000/XXXX"},
		},
	}
	got := *c
	got.file, got.pos = "", nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(full.yaml) =\n%+v\nwant\n%+v", got, want)
	}
	if c.File() != "testdata/full.yaml" {
		t.Errorf("File() = %q", c.File())
	}
}

func TestDefaultsOnlyWhenAbsent(t *testing.T) {
	c, err := Parse([]byte("{}"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./data" || c.NATS.Listen != "127.0.0.1:4222" || c.NATS.Replicas != 1 ||
		c.HTTP.Listen != "127.0.0.1:8080" || c.Fetch.Timeout != 20*time.Second ||
		c.Fetch.MaxBodyBytes != 10485760 || c.Fetch.PerHostConcurrency != 2 || c.Fetch.UserAgent != "" ||
		c.Log.Level != "info" || c.Log.Format != "auto" || c.NATS.URL != "" {
		t.Errorf("defaults = %+v", *c)
	}

	c, err = Parse([]byte("nats:\n  listen: \"\"\nhttp:\n  listen: ''\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.Listen != "" || c.HTTP.Listen != "" {
		t.Errorf("explicit empty listen = %q, %q; want both kept empty", c.NATS.Listen, c.HTTP.Listen)
	}

	src := `feeds:
  - id: a
    url: https://a.example/
topics:
  - id: t
    query: q
alerts:
  - topic: t
notify:
  - type: webhook
    url: https://hooks.example/
  - name: ops
    type: slack
    url: https://hooks.slack.com/services/x
  - type: slack
    url: https://hooks.slack.com/services/y
`
	c, err = Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Feeds[0].Schedule != "@every 5m" || c.Alerts[0].Kind != "match" {
		t.Errorf("feed schedule %q, alert kind %q; want the defaults", c.Feeds[0].Schedule, c.Alerts[0].Kind)
	}
	var names []string
	for _, n := range c.Notify {
		names = append(names, n.Name)
	}
	if got := strings.Join(names, ","); got != "webhook-0,ops,slack-2" {
		t.Errorf("notify names = %s, want webhook-0,ops,slack-2", got)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("built-in default does not validate:\n%v", err)
	}
	if c.File() != "<built-in>" || c.NATS.URL != "" || c.NATS.Listen != "127.0.0.1:4222" ||
		c.HTTP.Listen != "127.0.0.1:8080" || c.DataDir != "./data" {
		t.Errorf("default = %+v", *c)
	}
	if n := len(c.Feeds); n < 5 || n > 7 {
		t.Errorf("default has %d feeds, want 5 to 7", n)
	}
	for _, f := range c.Feeds {
		every, ok := strings.CutPrefix(f.Schedule, "@every ")
		d, err := time.ParseDuration(every)
		if !ok || err != nil || d < 5*time.Minute || d > 15*time.Minute {
			t.Errorf("feed %s schedule %q, want @every 5m to 15m", f.ID, f.Schedule)
		}
		if !strings.HasPrefix(f.URL, "https://") {
			t.Errorf("feed %s url %q, want https", f.ID, f.URL)
		}
	}
	if len(c.Topics) != 1 || c.Topics[0].ID != "dprk-russia" || c.Topics[0].Name != "DPRK–Russia military cooperation" {
		t.Errorf("default topics = %+v", c.Topics)
	}
	if line, _, ok := c.Position("topics[0].query"); !ok || line == 0 {
		t.Errorf("default has no position for topics[0].query")
	}
	// Each call returns a fresh copy that callers may modify.
	c.Feeds[0].ID = "changed"
	if Default().Feeds[0].ID == "changed" {
		t.Error("Default() shares state between calls")
	}
}

func TestLoadErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(missing)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if want := missing + ": cannot read config: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("Load(missing) = %v, want %s", err, want)
	}

	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("nats:\n  replicas: 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	var e *Error
	if !errors.As(err, &e) || e.File != path || e.Line != 2 || e.Col != 13 {
		t.Errorf("Load(bad) = %#v, want an *Error at %s:2:13", err, path)
	}
}

func TestPosition(t *testing.T) {
	src := "data_dir: ./x\nnats:\n  url: nats://a:4222\nfeeds:\n  - id: a\n    url: https://a.example/\n  - id: b\n    url: https://b.example/\n"
	c, err := Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path      string
		line, col int
		ok        bool
	}{
		{"", 1, 1, true},
		{"data_dir", 1, 11, true},
		{"nats", 3, 3, true},
		{"nats.url", 3, 8, true},
		{"feeds", 5, 3, true},
		{"feeds[1]", 7, 5, true},
		{"feeds[1].id", 7, 9, true},
		{"feeds[1].url", 8, 10, true},
		{"feeds[1].schedule", 0, 0, false},
		{"http.listen", 0, 0, false},
	}
	for _, tt := range tests {
		line, col, ok := c.Position(tt.path)
		if line != tt.line || col != tt.col || ok != tt.ok {
			t.Errorf("Position(%q) = %d, %d, %v; want %d, %d, %v", tt.path, line, col, ok, tt.line, tt.col, tt.ok)
		}
	}
}

func TestErrorf(t *testing.T) {
	c, err := Parse([]byte("topics:\n  - id: t\n    query: 'a AND'\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"topics[0].query", "t.yaml:3:12: topics[0].query: expected a term after AND"},
		{"topics[0].name", "t.yaml:2:5: topics[0].name: expected a term after AND"},
		{"http.listen", "t.yaml:1:1: http.listen: expected a term after AND"},
		{"", "t.yaml:1:1: expected a term after AND"},
	}
	for _, tt := range tests {
		if got := c.Errorf(tt.path, "expected a term after %s", "AND").Error(); got != tt.want {
			t.Errorf("Errorf(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "x.html")
	tests := []struct{ file, p, want string }{
		{"/etc/newswatch/config.yaml", "examples/a.html", "/etc/newswatch/examples/a.html"},
		{"config.yaml", "a.html", "a.html"},
		{"conf/config.yaml", "../a.html", "a.html"},
		{"/etc/newswatch/config.yaml", abs, abs},
		{BuiltinFile, "a.html", "a.html"},
		{"/etc/newswatch/config.yaml", "", ""},
	}
	for _, tt := range tests {
		c := &Config{file: tt.file}
		if got := c.Resolve(tt.p); got != tt.want {
			t.Errorf("Resolve(%q) with file %q = %q, want %q", tt.p, tt.file, got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "c.yaml", Line: 3, Col: 7, Msg: "bad"}, "c.yaml:3:7: bad"},
		{Error{File: "c.yaml", Line: 3, Msg: "bad"}, "c.yaml:3: bad"},
		{Error{File: "c.yaml", Msg: "bad"}, "c.yaml: bad"},
		{Error{Line: 3, Col: 7, Msg: "bad"}, "3:7: bad"},
		{Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
	es := Errors{
		{File: "c.yaml", Line: 9, Col: 1, Msg: "third"},
		{File: "c.yaml", Line: 2, Col: 8, Msg: "second"},
		{File: "c.yaml", Line: 2, Col: 3, Msg: "first"},
		{File: "c.yaml", Msg: "whole file"},
	}
	want := "c.yaml:2:3: first\nc.yaml:2:8: second\nc.yaml:9:1: third\nc.yaml: whole file"
	if got := es.Error(); got != want {
		t.Errorf("Errors.Error() =\n%s\nwant\n%s", got, want)
	}
	if es[0].Msg != "third" {
		t.Error("Errors.Error() reordered its receiver")
	}
	var e *Error
	if !errors.As(error(es), &e) || e.Msg != "third" {
		t.Errorf("errors.As(Errors) = %v, want the first *Error", e)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"id", "name", "url", "schedule"}
	tests := []struct{ word, want string }{
		{"shedule", "schedule"},
		{"schedul", "schedule"},
		{"scedulee", "schedule"},
		{"sched", ""},
		{"nmae", "name"},
		{"ur", "url"},
		{"x", ""},
		{"feeds", ""},
	}
	for _, tt := range tests {
		if got, _ := suggest(tt.word, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestRelativeFileFeedResolvesAgainstConfigDir(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte("feeds:\n  - {id: local, url: \"file:feeds/x.xml\"}\n  - {id: abs, url: \"file:///srv/y.xml\"}\n"), filepath.Join(dir, "nw.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := "file://" + filepath.ToSlash(filepath.Join(dir, "feeds", "x.xml"))
	if c.Feeds[0].URL != want {
		t.Errorf("relative file feed = %q, want %q", c.Feeds[0].URL, want)
	}
	if c.Feeds[1].URL != "file:///srv/y.xml" {
		t.Errorf("absolute file feed changed to %q", c.Feeds[1].URL)
	}
}
