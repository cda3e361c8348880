package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the real daemon as a child process (to kill it with SIGKILL), and
// builds the deploy/tools binaries that the selected tests need in the background.
func TestMain(m *testing.M) {
	if os.Getenv("NEWSWATCH_TEST_CHILD") == "1" {
		os.Exit(runMain(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	cleanup := startToolBuilds()
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type child struct {
	cmd  *exec.Cmd
	addr string
	log  *os.File
}

func startChild(t *testing.T, cfgPath, addr string) *child {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "child-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "NEWSWATCH_TEST_CHILD=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, addr: addr, log: logf}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	return c
}

func (c *child) metric(t *testing.T, series string) (float64, bool) {
	t.Helper()
	resp, err := http.Get("http://" + c.addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, series+" ") {
			var v float64
			fmt.Sscanf(strings.TrimPrefix(line, series+" "), "%g", &v)
			return v, true
		}
	}
	return 0, false
}

func (c *child) waitMetric(t *testing.T, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, ok := c.metric(t, series); ok && v >= want {
			return
		}
		if time.Now().After(deadline) {
			v, _ := c.metric(t, series)
			log, _ := os.ReadFile(c.log.Name())
			t.Fatalf("%s = %v, want ≥ %v; child log:\n%s", series, v, want, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *child) topicCount(t *testing.T, id string) int64 {
	t.Helper()
	var s struct {
		ArticleCount int64 `json:"article_count"`
	}
	getJSON(t, "http://"+c.addr+"/api/v1/topics/"+id, &s)
	return s.ArticleCount
}

// A kill -9 in the middle of the daemon's life loses nothing and publishes nothing twice.
func TestKillNineAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon as a child process")
	}
	fs := newFeedServer(t)
	fs.set("/wire.xml", rss("Wire",
		item{"Pyongyang sends troops to Russia", "https://news.example.com/a1", "North Korean soldiers."},
		item{"Second", "https://news.example.com/a2", "Two."}))
	fs.set("/paper.xml", rss("Paper", item{"Pyongyang sends troops to Russia", "https://news.example.com/a1?utm_source=x", "Copy."}))
	fs.set("/blog.xml", rss("Blog", item{"Blog", "https://blog.example.org/1", "One."}))
	fs.noETag["/blog.xml"] = true
	hook := newHookReceiver(t)
	dir := t.TempDir()
	addr := freePort(t)
	cfg := fmt.Sprintf(`data_dir: %s
nats: {listen: ""}
http: {listen: "%s"}
fetch: {allow_networks: ["127.0.0.1/32"]}
log: {format: json}
feeds:
  - {id: wire, url: "%s/wire.xml", schedule: "@every 1s"}
  - {id: paper, url: "%s/paper.xml", schedule: "@every 1s"}
  - {id: blog, url: "%s/blog.xml", schedule: "@every 1s"}
topics:
  - {id: dprk, name: DPRK, query: 'pyongyang AND russia'}
alerts:
  - {topic: dprk, kind: match}
notify:
  - {name: hook, type: webhook, url: "%s/hook", secret: "%s"}
`, filepath.Join(dir, "data"), addr, fs.srv.URL, fs.srv.URL, fs.srv.URL, hook.srv.URL, hookSecret)
	cfgPath := filepath.Join(dir, "nw.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	first := startChild(t, cfgPath, addr)
	// wire and paper answer 304 once their validators are known; blog never does, so four ok
	// polls mean blog was polled twice.
	first.waitMetric(t, `newswatch_feed_polls_total{result="not_modified"}`, 1)
	first.waitMetric(t, `newswatch_feed_polls_total{result="ok"}`, 4)
	if v, _ := first.metric(t, "newswatch_stream_messages{stream=\"NEWSWATCH_ARTICLES\"}"); v != 6 {
		t.Fatalf("article stream holds %v messages, want 6 (3 articles + 3 id markers)", v)
	}
	hook.waitFor(t, 1)
	first.waitMetric(t, `newswatch_topic_matches_total{topic="dprk"}`, 1)
	before := first.topicCount(t, "dprk")
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = first.cmd.Process.Wait()

	second := startChild(t, cfgPath, addr)
	second.waitMetric(t, `newswatch_feed_polls_total{result="ok"}`, 2)
	second.waitMetric(t, `newswatch_feed_polls_total{result="not_modified"}`, 1)
	if v, _ := second.metric(t, `newswatch_articles_published_total`); v != 0 {
		t.Errorf("after kill -9 the restart published %v blog articles again", v)
	}
	if v, _ := second.metric(t, "newswatch_stream_messages{stream=\"NEWSWATCH_ARTICLES\"}"); v != 6 {
		t.Errorf("article stream holds %v messages after restart, want 6", v)
	}
	if got := second.topicCount(t, "dprk"); got != before || got != 1 {
		t.Errorf("topic count after kill -9 = %d, before %d, want 1", got, before)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(hook.alerts()); n != 1 {
		t.Errorf("webhook got %d alerts after kill -9 and restart, want 1", n)
	}
	// SIGTERM: a clean exit with status 0.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- second.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("SIGTERM exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("no exit 20s after SIGTERM")
	}
}
