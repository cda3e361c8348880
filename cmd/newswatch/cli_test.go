package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/config"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIUsageAndVersion(t *testing.T) {
	if code, _, stderr := run(t); code != exitUsage || !strings.Contains(stderr, "Usage") {
		t.Errorf("no args: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "frobnicate"); code != exitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
	if code, stdout, _ := run(t, "version"); code != exitOK || !strings.HasPrefix(stdout, "newswatch ") {
		t.Errorf("version: %d %q", code, stdout)
	}
	if code, _, stderr := run(t, "check", "--help"); code != exitOK || !strings.Contains(stderr, "--config") {
		t.Errorf("check --help: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "check", "--bogus"); code != exitUsage || stderr == "" {
		t.Errorf("bad flag: %d %q", code, stderr)
	}
}

func TestCheckReportsConfigErrorsWithPositions(t *testing.T) {
	bad := writeFile(t, "bad.yaml", `feeds:
  - id: a
    url: https://example.org/a.xml
    shedule: "@every 5m"
  - id: a
    url: https://example.org/b.xml
`)
	code, _, stderr := run(t, "check", "--config", bad)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
	}
	for _, want := range []string{bad + ":4:5:", `"shedule"`, `did you mean "schedule"`, bad + ":5:", `duplicate feed id "a"`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("stack trace in output:\n%s", stderr)
	}
}

func TestCheckQuerySyntaxErrorColumn(t *testing.T) {
	bad := writeFile(t, "q.yaml", "topics:\n  - id: t\n    query: 'a AND (b OR'\n")
	code, _, stderr := run(t, "check", "--config", bad)
	if code != exitUsage {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	// The query starts at column 13 (after the quote); the error is at its column 12.
	if !strings.Contains(stderr, bad+":3:24:") || !strings.Contains(stderr, `topic "t": column 12: expected term`) {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestCheckRunsTopicExamples(t *testing.T) {
	code, stdout, stderr := run(t, "check", "--config", "testdata/topics.yaml")
	if code != exitOK || !strings.Contains(stdout, "OK") {
		t.Fatalf("good config: %d %q %q", code, stdout, stderr)
	}
	data, err := os.ReadFile("testdata/topics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "'dprk AND (russia OR moscow) AND military'", "'dprk AND kremlin'", 1)
	p := writeFile(t, "topics.yaml", broken)
	code, _, stderr = run(t, "check", "--config", p)
	if code != exitUsage || !strings.Contains(stderr, `example "talks" must match the query but does not`) {
		t.Errorf("broken query: %d %q", code, stderr)
	}
	t.Setenv("NEWSWATCH_CONFIG", p)
	if code, _, _ := run(t, "check"); code != exitUsage {
		t.Errorf("NEWSWATCH_CONFIG not used: exit %d", code)
	}
}

func TestTopicsTestJSON(t *testing.T) {
	code, stdout, stderr := run(t, "topics", "test", "--config", "testdata/topics.yaml", "--json",
		"testdata/labelled.xml", "testdata/article.txt")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	type line struct {
		URL     string              `json:"url"`
		Title   string              `json:"title"`
		Topics  []string            `json:"topics"`
		Explain map[string][]string `json:"explain"`
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		got = append(got, v)
	}
	if len(got) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(got), stdout)
	}
	want := []line{
		{URL: "https://example.org/cafe", Title: "Café owners protest", Topics: []string{"cafe"}, Explain: map[string][]string{"cafe": {"cafe"}}},
		{URL: "https://example.org/talks", Title: "DPRK–Russia talks", Topics: []string{"dprk-russia"},
			Explain: map[string][]string{"dprk-russia": {"dprk", "military", "moscow", "russia"}}},
		{URL: "https://example.org/weather", Title: "Weather", Topics: []string{}, Explain: map[string][]string{}},
	}
	for i, w := range want {
		if !reflect.DeepEqual(got[i], w) {
			t.Errorf("item %d = %+v\nwant %+v", i, got[i], w)
		}
	}
	if last := got[3]; !reflect.DeepEqual(last.Topics, []string{"russian"}) || last.Title != "Россия и КНДР расширяют военное сотрудничество" {
		t.Errorf("text article = %+v", last)
	}
	// Human output names the terms and fields.
	_, human, _ := run(t, "topics", "test", "--config", "testdata/topics.yaml", "testdata/labelled.xml")
	if !strings.Contains(human, "dprk-russia: ") || !strings.Contains(human, "(title)") {
		t.Errorf("human output:\n%s", human)
	}
}

// The built-in topic must keep catching its examples (EN, RU, KO) and rejecting one-sided
// stories.
func TestDefaultConfigTopicsPassTheirExamples(t *testing.T) {
	cfg := config.Default()
	if len(cfg.Topics) == 0 || len(cfg.Topics[0].Examples.Match) < 3 || len(cfg.Topics[0].Examples.NoMatch) < 3 {
		t.Fatalf("default topic lacks examples: %+v", cfg.Topics)
	}
	if err := checkTopics(cfg); err != nil {
		t.Fatal(err)
	}
}

// A report like the one analysts need caught (soldiers sent to North Korean sanatoriums) that
// never says "DPRK", "cooperation" or "alliance".
func TestDefaultTopicCatchesSanatoriumReport(t *testing.T) {
	code, stdout, stderr := run(t, "topics", "test", "--json", "testdata/sanatorium-report.txt")
	if code != exitOK || !strings.Contains(stdout, `"topics":["dprk-russia"]`) {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
}

// Secrets never reach check's output, even next to errors in the same entries.
func TestCheckNeverPrintsSecrets(t *testing.T) {
	secrets := []string{"hook-secret-123", "api-token-456", "nats-pass-789", "url-pass-000"}
	cfg := writeFile(t, "s.yaml", `http: {token: api-token-456}
nats: {url: "nats://nats.example:4222", user: nw, password: nats-pass-789}
topics:
  - {id: k, query: 'a AND ('}
notify:
  - {type: webhook, url: "ftp://u:url-pass-000@hooks.example/x", secret: hook-secret-123}
`)
	code, stdout, stderr := run(t, "check", "--config", cfg)
	if code != exitUsage {
		t.Fatalf("exit %d", code)
	}
	for _, s := range secrets {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("output shows secret %q:\n%s%s", s, stdout, stderr)
		}
	}
}

func TestPprofOnlyOnLoopback(t *testing.T) {
	t.Setenv(pprofEnv, "0.0.0.0:0")
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"run"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "loopback") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
