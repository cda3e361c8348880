package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Secrets stay out of the logs, at debug level, through failing deliveries and polls.
func TestSecretsStayOutOfLogs(t *testing.T) {
	fs := newFeedServer(t)
	seedFeeds(fs)
	fs.set("/paper.xml", "not a feed")
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no: "+r.Header.Get("X-Newswatch-Signature"), http.StatusBadRequest)
	}))
	t.Cleanup(failing.Close)
	secrets := []string{"hook-secret-abc", "api-token-def", "feed-key-ghi"}
	fs.set("/blog.xml", rss("Blog", item{"Russia and North Korea drills", "https://blog.example.org/d?api_key=feed-key-ghi", "Troops exercised."}))
	extra := topicsYAML + fmt.Sprintf(`alerts:
  - {topic: dprk-russia, kind: match}
notify:
  - {name: hook, type: webhook, url: "%s/hook", secret: hook-secret-abc}
`, failing.URL)
	cfg := testConfig(t, t.TempDir(), fs.srv.URL, extra)
	cfg.HTTP.Token = "api-token-def"
	cfg.Feeds[2].URL += "?key=feed-key-ghi"
	cfg.Feeds[1].URL = fs.srv.URL + "/missing.xml?token=feed-key-ghi" // a 404: its URL must not leak the key
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	app, err := New(t.Context(), cfg, Deps{Logger: log, Registry: reg, Version: "test", MaxJitter: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "dead-lettered") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	app.Close()
	out := logs.String()
	if !strings.Contains(out, "dead-lettered") || !strings.Contains(out, "http_error") {
		t.Fatalf("the failures this test needs did not happen; logs:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("logs contain the secret %q", s)
		}
	}
}
