package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testAlert(n int) notify.Alert {
	pub := time.Date(2026, 11, 25, 9, 58, 0, 0, time.UTC)
	a := notify.Alert{
		ID: "alert-dprk-russia-42", Topic: "dprk-russia", TopicName: "DPRK–Russia military cooperation",
		Kind: notify.KindMatch, FiredAt: pub.Add(2 * time.Minute),
		Summary: fmt.Sprintf("%d new stories for DPRK–Russia military cooperation", n),
	}
	for i := range n {
		a.Articles = append(a.Articles, notify.Article{
			ID:          fmt.Sprintf("id%02d", i),
			URL:         fmt.Sprintf("https://news.example/%d?a=1&b=2|x", i),
			Title:       fmt.Sprintf("Story %d: troops <arrive> & train", i),
			Source:      "wire",
			PublishedAt: pub.Add(-time.Duration(i) * time.Minute),
			Matched:     []string{"north korea", "troops"},
		})
	}
	if n > 0 {
		a.Articles[0].Snippet = "Seoul's spy agency says   more troops\nare on the way."
		a.Articles[0].Copies = []notify.Copy{
			{ID: "c1", URL: "https://a.example/1", Source: "yonhap-en"},
			{ID: "c2", URL: "https://b.example/2", Source: "tass-en"},
			{ID: "c3", URL: "https://b.example/3", Source: "tass-en"},
			{ID: "c4", URL: "https://w.example/4", Source: "wire"},
		}
	}
	return a
}

func TestFormatGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		a    notify.Alert
	}{
		{"match-3", testAlert(3)},
		{"digest-empty", notify.Alert{ID: "d", Topic: "dprk-russia", Kind: notify.KindDigest}},
		{"spike-1", func() notify.Alert {
			a := testAlert(1)
			a.Kind, a.Summary = notify.KindSpike, "Volume spike: 14 articles in 1h (usual 3) & rising"
			return a
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := Format(tt.a).JSON()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".golden.json", append(got.Bytes(), '\n'))
		})
	}
}

func TestFormatArticles(t *testing.T) {
	m := Format(testAlert(3))
	if len(m.Blocks) != 4 {
		t.Fatalf("%d blocks, want a header and 3 sections (a match alert's summary is only the fallback)", len(m.Blocks))
	}
	if got := m.Blocks[0]; got.Type != "header" || got.Text.Text != "DPRK–Russia military cooperation: 3 new stories" {
		t.Errorf("header = %+v", got.Text)
	}
	first := m.Blocks[1].Text.Text
	for _, want := range []string{
		"*<https://news.example/0?a=1&amp;b=2%7Cx|Story 0: troops &lt;arrive&gt; &amp; train>*",
		"wire · <!date^1795600680^{date_short_pretty} {time}|2026-11-25 09:58 UTC>",
		"matched: north korea, troops",
		"+2 other outlets", // yonhap-en, tass-en; "wire" is the article's own outlet
		"\n>Seoul's spy agency says more troops are on the way.",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first article %q lacks %q", first, want)
		}
	}
	if strings.Contains(m.Blocks[2].Text.Text, "other outlet") {
		t.Errorf("article without copies mentions other outlets: %q", m.Blocks[2].Text.Text)
	}
}

func TestFormatCapsArticles(t *testing.T) {
	tests := []struct {
		n          int
		wantSecs   int
		wantMore   string
		wantBlocks int
	}{
		{n: 0, wantBlocks: 2},
		{n: 1, wantSecs: 1, wantBlocks: 2},
		{n: 20, wantSecs: 20, wantBlocks: 21},
		{n: 21, wantSecs: 20, wantMore: "_and 1 more_", wantBlocks: 22},
		{n: 57, wantSecs: 20, wantMore: "_and 37 more_", wantBlocks: 22},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			m := Format(testAlert(tt.n))
			secs := 0
			for _, b := range m.Blocks {
				if b.Type == "section" {
					secs++
				}
			}
			last := m.Blocks[len(m.Blocks)-1]
			var more string
			if tt.wantMore != "" && last.Type == "context" {
				more = last.Elements[0].Text
			}
			if secs != tt.wantSecs || more != tt.wantMore || len(m.Blocks) != tt.wantBlocks {
				t.Errorf("%d sections, last line %q, %d blocks; want %d, %q, %d", secs, more, len(m.Blocks), tt.wantSecs, tt.wantMore, tt.wantBlocks)
			}
		})
	}
}

func TestFormatLimits(t *testing.T) {
	a := testAlert(1)
	a.TopicName = strings.Repeat("Очень длинное имя темы ", 20)
	a.Articles[0].Title = strings.Repeat("Заголовок ", 100)
	m := Format(a)
	if n := len([]rune(m.Blocks[0].Text.Text)); n > maxHeader {
		t.Errorf("header has %d characters, Slack allows %d", n, maxHeader)
	}
	if n := len([]rune(m.Blocks[1].Text.Text)); n > 3000 {
		t.Errorf("section has %d characters, Slack allows 3000", n)
	}
	if !strings.Contains(m.Blocks[1].Text.Text, "Заголовок…>") {
		t.Errorf("long title not cut with an ellipsis: %q", m.Blocks[1].Text.Text)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"one two three", 8, "one two…"},
		{"한국어 제목입니다", 5, "한국어…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// slackReceiver answers like Slack's incoming webhooks: 200 "ok" for a message with text
// and blocks, 400 "invalid_payload" otherwise, or a queued status.
type slackReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
	next   []int
}

func (s *slackReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	status := http.StatusOK
	if len(s.next) > 0 {
		status, s.next = s.next[0], s.next[1:]
	}
	s.mu.Unlock()
	var m Message
	switch {
	case status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "rate_limited")
	case status != http.StatusOK:
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "channel_not_found")
	case r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil || m.Text == "" || len(m.Blocks) == 0:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "invalid_payload")
	default:
		_, _ = io.WriteString(w, "ok")
	}
}

func TestNotify(t *testing.T) {
	const secretPath = "/services/T0001/B0001/XXXXsecretXXXX"
	rcv := &slackReceiver{next: []int{http.StatusOK, http.StatusTooManyRequests, http.StatusNotFound, http.StatusInternalServerError}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	n := New(Config{Name: "analysts", URL: srv.URL + secretPath})
	a := testAlert(2)

	if retry, err := n.Notify(t.Context(), a); retry || err != nil {
		t.Fatalf("Notify = %v, %v; want delivered", retry, err)
	}
	want, _ := Format(a).JSON()
	if !bytes.Equal(rcv.bodies[0], want) {
		t.Errorf("posted %s\nwant %s", rcv.bodies[0], want)
	}
	retry, err := n.Notify(t.Context(), a)
	if d, _ := notify.RetryDelay(err); !retry || d != 30*time.Second {
		t.Errorf("rate limited: Notify = %v, %v; want retry after 30s", retry, err)
	}
	retry, err = n.Notify(t.Context(), a)
	if retry || err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Errorf("404: Notify = %v, %v; want a permanent error quoting the reason", retry, err)
	}
	retry, err = n.Notify(t.Context(), a)
	if !retry || err == nil || !strings.HasPrefix(err.Error(), "slack analysts: ") {
		t.Errorf("500: Notify = %v, %v; want retry", retry, err)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q reveals the webhook URL", err)
	}
}

func TestNotifyUnreachableHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/services/T0001/B0001/XXXXsecretXXXX"
	srv.Close()
	retry, err := New(Config{URL: u, Timeout: time.Second}).Notify(t.Context(), testAlert(1))
	if !retry || err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Notify = %v, %v; want retry and no URL in the error", retry, err)
	}
}

func TestNotifyInvalidConfig(t *testing.T) {
	cfg := Config{URL: "hooks.slack.com/services/T/B/secret"}
	retry, err := New(cfg).Notify(t.Context(), testAlert(1))
	if retry || !errors.Is(err, ErrConfig) || strings.Contains(err.Error(), "secret") {
		t.Errorf("Notify = %v, %v; want permanent ErrConfig without the URL", retry, err)
	}
	if err := (Config{URL: "https://hooks.slack.com/services/T/B/x", Timeout: -1}).Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("negative timeout: Validate = %v", err)
	}
}

func BenchmarkFormat(b *testing.B) {
	a := testAlert(20)
	for b.Loop() {
		if _, err := Format(a).JSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update if the change is intended):\n got %s\nwant %s", path, got, want)
	}
}
