package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/webhook"
	"github.com/newswatch/newswatch/config"
)

const hookSecret = "s3cret-for-tests"

// receiver is a webhook endpoint that verifies signatures and can be taken down.
type hookReceiver struct {
	mu       sync.Mutex
	down     bool
	failures int
	got      []notify.Alert
	keys     map[string]int
	badSig   int
	srv      *httptest.Server
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{keys: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.down {
			h.failures++
			w.Header().Set("Retry-After", "1")
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		err := webhook.Verify(hookSecret, r.Header.Get("X-Newswatch-Timestamp"), r.Header.Get("X-Newswatch-Signature"), body, time.Now(), 5*time.Minute)
		if err != nil {
			h.badSig++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var a notify.Alert
		if err := json.Unmarshal(body, &a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		h.keys[key]++
		if h.keys[key] == 1 {
			h.got = append(h.got, a)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) setDown(d bool) {
	h.mu.Lock()
	h.down = d
	h.mu.Unlock()
}

func (h *hookReceiver) alerts() []notify.Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notify.Alert(nil), h.got...)
}

func (h *hookReceiver) waitFor(t *testing.T, n int) []notify.Alert {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(h.alerts()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d alerts, want %d", len(h.alerts()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return h.alerts()
}

func (r *running) storedAlerts(t *testing.T) []notify.Alert {
	t.Helper()
	var out []notify.Alert
	err := r.app.conn.ReadAlerts(t.Context(), time.Time{}, func(data []byte, _, _ uint64) error {
		var a notify.Alert
		err := json.Unmarshal(data, &a)
		out = append(out, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func alertsYAML(hookURL string) string {
	return topicsYAML + fmt.Sprintf(`alerts:
  - {topic: dprk-russia, kind: match}
notify:
  - {name: ops-hook, type: webhook, url: "%s/hook", secret: "%s", max_age: 1h}
`, hookURL, hookSecret)
}

const (
	wireTitle   = "Pyongyang sends troops to Russia's Kursk region"
	wireSummary = "North Korean soldiers have arrived in Kursk, officials in Moscow and Kyiv said on Tuesday."
)

func TestAlertsEndToEnd(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/wire.xml", rss("Wire",
		item{wireTitle, "https://wire.example.com/kursk", wireSummary},
		item{"Kremlin hosts trade fair", "https://wire.example.com/fair", "Nothing military here."}))
	fs.set("/paper.xml", rss("Paper",
		// The same article under a tracking URL, and a near-identical rewrite from another outlet.
		item{wireTitle, "https://wire.example.com/kursk?utm_source=paper", wireSummary},
		item{wireTitle, "https://paper.example.net/world/kursk-troops", "Paper: " + wireSummary}))
	fs.set("/blog.xml", rss("Blog", item{"North Korea launches satellite", "https://blog.example.org/sat", "No other side."}))
	hook := newHookReceiver(t)
	hook.setDown(true) // the receiver is down when the story breaks

	cfg := testConfig(t, t.TempDir(), fs.srv.URL, alertsYAML(hook.srv.URL))
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "paper", "blog")

	deadline := time.Now().Add(10 * time.Second)
	for len(r.storedAlerts(t)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stored := r.storedAlerts(t)
	if len(stored) != 1 || len(stored[0].Articles) != 1 {
		t.Fatalf("alerts on NATS = %+v, want one alert with one story", stored)
	}
	if n := r.metric(t, "newswatch_alerts_fired_total", map[string]string{"topic": "dprk-russia", "kind": "match"}); n != 1 {
		t.Errorf("alerts fired = %v", n)
	}
	if a := stored[0].Articles[0]; len(a.Copies) > 1 || a.Title != wireTitle || len(a.Matched) == 0 {
		t.Errorf("alerted article = %+v", a)
	}
	// The receiver is down; the daemon restarts in the middle of retrying; then the receiver
	// comes back: the alert is delivered exactly once, signed.
	waitFailures := func(n int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			hook.mu.Lock()
			f := hook.failures
			hook.mu.Unlock()
			if f >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("receiver saw %d failed deliveries, want %d", f, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFailures(1)
	r.stop()
	r = startApp(t, cfg)
	waitFailures(2)
	hook.setDown(false)
	got := hook.waitFor(t, 1)
	if got[0].ID != stored[0].ID {
		t.Errorf("delivered %s, stored %s", got[0].ID, stored[0].ID)
	}
	hook.mu.Lock()
	if hook.badSig != 0 {
		t.Errorf("receiver saw %d bad signatures", hook.badSig)
	}
	hook.mu.Unlock()
	// The receiver has the alert a moment before the daemon has its answer.
	deadline = time.Now().Add(5 * time.Second)
	for r.metric(t, "newswatch_alert_deliveries_total", map[string]string{"receiver": "ops-hook", "result": "delivered"}) < 1 &&
		time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := r.metric(t, "newswatch_alert_deliveries_total", map[string]string{"receiver": "ops-hook", "result": "delivered"}); n != 1 {
		t.Errorf("deliveries delivered = %v", n)
	}
	if n := r.metric(t, "newswatch_alert_deliveries_total", map[string]string{"receiver": "ops-hook", "result": "retry"}); n < 1 {
		t.Errorf("deliveries retry = %v", n)
	}
	if n := len(r.storedAlerts(t)); n != 1 {
		t.Errorf("%d alerts after a restart during delivery, want 1", n)
	}

	// The API lists it; a silence holds back the next story.
	base := "http://" + r.app.HTTPAddr()
	var listed []notify.Alert
	getJSON(t, base+"/api/v1/alerts?topic=dprk-russia", &listed)
	if len(listed) != 1 || listed[0].ID != stored[0].ID {
		t.Errorf("GET /api/v1/alerts = %+v", listed)
	}
	r.stop()

	// Restart: nothing re-sent.
	r = startApp(t, cfg)
	r.waitPolled(t, 2, "wire", "paper", "blog")
	time.Sleep(500 * time.Millisecond)
	if n := len(r.storedAlerts(t)); n != 1 {
		t.Fatalf("%d alerts after restart, want 1", n)
	}

	// SSE stream: the next alert arrives as an event.
	events := make(chan string, 4)
	resp, err := http.Get("http://" + r.app.HTTPAddr() + "/api/v1/alerts/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "data: ") {
				events <- strings.TrimPrefix(line, "data: ")
			}
		}
	}()

	// A new matching story gives one new alert, delivered once.
	fs.set("/blog.xml", rss("Blog", item{"Russia and North Korea stage joint military drills", "https://blog.example.org/drills", "Troops from both armies took part near Vladivostok."}))
	pollNow(t, r, "blog", "ok")
	got = hook.waitFor(t, 2)
	if got[1].Articles[0].URL != "https://blog.example.org/drills" {
		t.Errorf("second alert = %+v", got[1])
	}
	select {
	case data := <-events:
		if !strings.Contains(data, "blog.example.org/drills") {
			t.Errorf("SSE event = %s", data)
		}
	case <-time.After(10 * time.Second):
		t.Error("no SSE event")
	}

	// Silence the topic: the next story does not alert.
	body := bytes.NewBufferString(`{"topic": "dprk-russia", "duration": "1h", "comment": "test"}`)
	sresp, err := http.Post("http://"+r.app.HTTPAddr()+"/api/v1/silences", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	sresp.Body.Close()
	if sresp.StatusCode != http.StatusCreated {
		t.Fatalf("POST silence: %s", sresp.Status)
	}
	fs.set("/wire.xml", rss("Wire", item{"Putin thanks Kim Jong Un for troops", "https://wire.example.com/thanks", "The Kremlin praised North Korean soldiers."}))
	pollNow(t, r, "wire", "ok")
	time.Sleep(700 * time.Millisecond)
	if n := len(r.storedAlerts(t)); n != 2 {
		t.Errorf("%d alerts with the topic silenced, want 2", n)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for k, n := range hook.keys {
		if n != 1 {
			t.Errorf("idempotency key %s delivered %d times", k, n)
		}
	}
}

// Receivers follow a config reload: a changed receiver delivers the next alert to its new
// endpoint, an added one starts with the alerts after the reload, a removed one stops.
func TestReloadReceivers(t *testing.T) {
	fs := newFeedServer(t)
	first, second := newHookReceiver(t), newHookReceiver(t)
	stories := []item{
		{wireTitle, "https://news.example.com/kursk", wireSummary},
		{"Russia and North Korea stage joint naval drills off Vladivostok", "https://news.example.com/drills",
			"Warships and troops from both militaries took part in exercises in the Sea of Japan, Moscow said."},
		{"Ukraine captures two North Korean soldiers fighting for Russia", "https://news.example.com/pows",
			"Pyongyang's troops have been at the front since October, Kyiv says; the two are being questioned."},
	}
	fs.set("/wire.xml", rss("Wire", stories[0]))
	fs.set("/paper.xml", rss("Paper"))
	fs.set("/blog.xml", rss("Blog"))
	dataDir := t.TempDir()
	withNotify := func(notify string) *config.Config {
		return testConfig(t, dataDir, fs.srv.URL, topicsYAML+"alerts:\n  - {topic: dprk-russia, kind: match}\nnotify:\n"+notify)
	}
	hook := func(name, url string) string {
		return fmt.Sprintf("  - {name: %s, type: webhook, url: \"%s/hook\", secret: \"%s\"}\n", name, url, hookSecret)
	}
	r := startApp(t, withNotify(hook("ops", first.srv.URL)))
	first.waitFor(t, 1)
	// Reload only once the delivery is acknowledged: one cut short by the reload is handed back
	// and delivered again (at least once, same Idempotency-Key), to ops' new endpoint.
	waitFor(t, "ops' first delivery to be acknowledged", func() bool {
		return r.metric(t, "newswatch_alert_deliveries_total", map[string]string{"receiver": "ops", "result": "delivered"}) >= 1
	})

	// ops moves to the second endpoint; audit joins on the first.
	if err := r.app.Reload(withNotify(hook("ops", second.srv.URL) + hook("audit", first.srv.URL))); err != nil {
		t.Fatal(err)
	}
	fs.set("/wire.xml", rss("Wire", stories[0], stories[1]))
	pollNow(t, r, "wire", "ok")
	if got := second.waitFor(t, 1); got[0].Articles[0].URL != stories[1].link {
		t.Errorf("ops after the reload got %+v", got[0])
	}
	if got := first.waitFor(t, 2); got[1].Articles[0].URL != stories[1].link {
		t.Errorf("audit got %+v", got[1])
	}

	// audit is removed: the next alert reaches ops only.
	if err := r.app.Reload(withNotify(hook("ops", second.srv.URL))); err != nil {
		t.Fatal(err)
	}
	fs.set("/wire.xml", rss("Wire", stories...))
	pollNow(t, r, "wire", "ok")
	if got := second.waitFor(t, 2); got[1].Articles[0].URL != stories[2].link {
		t.Errorf("ops got %+v", got[1])
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(first.alerts()); n != 2 {
		t.Errorf("the removed receiver got %d alerts, want 2 (before its removal)", n)
	}
}
