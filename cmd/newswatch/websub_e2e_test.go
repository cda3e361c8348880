package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/feeds/websub"
)

// testHub is a WebSub hub: it takes subscription requests (202), verifies each with a GET on
// the callback, and publishes to the verified subscriptions with signed POSTs.
type testHub struct {
	t     *testing.T
	srv   *httptest.Server
	lease atomic.Int64 // seconds it grants
	wg    sync.WaitGroup

	mu       sync.Mutex
	requests []url.Values          // subscription requests, in order
	subs     map[string]url.Values // topic → the last verified request
	verified int
}

func newTestHub(t *testing.T, lease int) *testHub {
	h := &testHub{t: t, subs: map[string]url.Values{}}
	h.lease.Store(int64(lease))
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() { h.srv.Close(); h.wg.Wait() })
	return h
}

func (h *testHub) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("hub.mode") != "subscribe" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req := r.PostForm
	h.mu.Lock()
	h.requests = append(h.requests, req)
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	h.wg.Go(func() { h.verify(req) })
}

// verify asks the subscriber whether it wants the subscription, as a hub does after a 202.
func (h *testHub) verify(req url.Values) {
	challenge := rand.Text()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {req.Get("hub.topic")}, "hub.challenge": {challenge},
		"hub.lease_seconds": {fmt.Sprint(h.lease.Load())}}
	code, body := h.get(req.Get("hub.callback"), q)
	if code != http.StatusOK || body != challenge {
		h.t.Logf("hub: verification of %s answered %d %q", req.Get("hub.topic"), code, body)
		return
	}
	h.mu.Lock()
	h.subs[req.Get("hub.topic")] = req
	h.verified++
	h.mu.Unlock()
}

func (h *testHub) get(callback string, q url.Values) (int, string) {
	resp, err := http.Get(callback + "?" + q.Encode())
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func (h *testHub) subscription(topic string) (url.Values, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subs[topic], h.verified
}

func (h *testHub) requestCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

// publish pushes body to topic's subscriber with the given signature header (sign gets the
// subscription's secret) and returns the status.
func (h *testHub) publish(t *testing.T, topic string, body []byte, sign func(secret []byte) string) int {
	t.Helper()
	sub, _ := h.subscription(topic)
	if sub == nil {
		t.Fatalf("hub: no verified subscription for %s", topic)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sub.Get("hub.callback"), strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/rss+xml")
	req.Header.Set("Link", fmt.Sprintf(`<%s/>; rel="hub", <%s>; rel="self"`, h.srv.URL, topic))
	if sig := sign([]byte(sub.Get("hub.secret"))); sig != "" {
		req.Header.Set("X-Hub-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// publicProxy stands for the reverse proxy (or load balancer) that makes the daemon
// reachable at the callback base URL; requests wait until it knows the daemon's address.
type publicProxy struct {
	srv    *httptest.Server
	target atomic.Value // string host:port[,host:port...] taken in turn; "" while the daemon restarts
	turn   atomic.Int64
}

func newPublicProxy(t *testing.T) *publicProxy {
	p := &publicProxy{}
	p.target.Store("")
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		targets := strings.Split(p.target.Load().(string), ",")
		r.Out.URL.Scheme, r.Out.URL.Host = "http", targets[int(p.turn.Add(1))%len(targets)]
	}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(20 * time.Second)
		for p.target.Load().(string) == "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// hubRSS is an RSS document that announces its hub and itself.
func hubRSS(hub, self string, items ...item) string {
	links := fmt.Sprintf(`<channel><atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="%s"/>`+
		`<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="%s"/>`, hub, self)
	return strings.Replace(rss("Pushed news", items...), "<channel>", links, 1)
}

func titled(r *running, t *testing.T, title string) int {
	n := 0
	for _, a := range r.articles(t) {
		if a.Title == title {
			n++
		}
	}
	return n
}

// TestWebSubPushEndToEnd: a feed that announces a hub is subscribed through the daemon's
// callback; a signed push is stored as an article at once, long before the next poll; a push
// with a bad or missing signature is refused, counted and not stored; a verification for a
// topic the daemon did not ask for is refused; a short lease is renewed with the same secret;
// a lease that ran out while the daemon was down is subscribed anew, with a new secret.
func TestWebSubPushEndToEnd(t *testing.T) {
	hub := newTestHub(t, 2) // a 2 s lease: renewed after 1.6 s
	proxy := newPublicProxy(t)
	fs := newFeedServer(t)
	for _, p := range []string{"/wire.xml", "/paper.xml", "/blog.xml"} {
		fs.set(p, rss(p))
	}
	topic := fs.srv.URL + "/pushed.xml"
	fs.set("/pushed.xml", hubRSS(hub.srv.URL+"/", topic, item{"Polled story", "https://news.example/polled", "From the poll."}))
	dir := t.TempDir()
	extra := fmt.Sprintf(`  - {id: pushed, url: "%s", schedule: "@every 1h"}
websub: {callback_base_url: "%s/", fallback_interval: 1h}
`, topic, proxy.srv.URL)
	start := func() *running {
		r := startApp(t, testConfig(t, dir, fs.srv.URL, extra))
		proxy.target.Store(r.app.HTTPAddr())
		return r
	}
	r := start()
	r.waitPolled(t, 1, "pushed")

	// Subscription and verification of intent.
	waitFor(t, "the hub to verify the subscription", func() bool { sub, _ := hub.subscription(topic); return sub != nil })
	sub, _ := hub.subscription(topic)
	if cb := sub.Get("hub.callback"); cb != proxy.srv.URL+"/websub/pushed" {
		t.Errorf("callback %q", cb)
	}
	if s := sub.Get("hub.secret"); len(s) != 64 || sub.Get("hub.lease_seconds") != "864000" {
		t.Errorf("secret %q (want 64 hex digits), lease_seconds %q (want the default)", s, sub.Get("hub.lease_seconds"))
	}
	waitFor(t, "the subscription to be active", func() bool {
		s, ok := r.app.websub.Subscription("pushed")
		return ok && s.State == websub.StateActive
	})

	if f := r.listed(t)["pushed"]; f.Push == nil || f.Push.State != "active" || f.Push.Hub != hub.srv.URL+"/" || f.Push.ExpiresAt == nil {
		t.Errorf("GET /api/v1/feeds shows the subscription as %+v", f.Push)
	}
	if f := r.listed(t)["wire"]; f.Push != nil {
		t.Errorf("a feed without a hub lists a subscription: %+v", f.Push)
	}

	// A signed push is stored as the feed's article, without a poll.
	doc := []byte(hubRSS(hub.srv.URL+"/", topic, item{"Pushed story", "https://news.example/pushed", "From the hub."}))
	began := time.Now()
	if code := hub.publish(t, topic, doc, func(s []byte) string { return websub.Sign("sha256", s, doc) }); code != http.StatusNoContent {
		t.Fatalf("signed push answered %d, want 204", code)
	}
	if n := titled(r, t, "Pushed story"); n != 1 {
		t.Fatalf("pushed article stored %d times once the push was answered, want 1", n)
	}
	t.Logf("push stored and answered in %s", time.Since(began))
	if f, _ := r.app.health.Get("pushed"); f.Polls != 1 {
		t.Errorf("feed polled %d times, want 1: the article came by push", f.Polls)
	}
	// The same push again, signed with sha1: a duplicate, not stored twice.
	if code := hub.publish(t, topic, doc, func(s []byte) string { return websub.Sign("sha1", s, doc) }); code != http.StatusNoContent {
		t.Fatalf("repeated push answered %d", code)
	}
	if n := titled(r, t, "Pushed story"); n != 1 {
		t.Errorf("a repeated push stored the article %d times", n)
	}

	// More pushes, one new item each: each is in the stream when its answer comes.
	var took []time.Duration
	for i := range 20 {
		title := fmt.Sprintf("Pushed story %d", i)
		body := []byte(hubRSS(hub.srv.URL+"/", topic, item{title, fmt.Sprintf("https://news.example/pushed/%d", i), "More."}))
		began := time.Now()
		if code := hub.publish(t, topic, body, func(s []byte) string { return websub.Sign("sha256", s, body) }); code != http.StatusNoContent {
			t.Fatalf("push %d answered %d", i, code)
		}
		took = append(took, time.Since(began))
		if n := titled(r, t, title); n != 1 {
			t.Fatalf("push %d stored %d times", i, n)
		}
	}
	slices.Sort(took)
	t.Logf("20 pushes, push to stored and answered: median %s, max %s", took[len(took)/2], took[len(took)-1])

	// Bad and missing signatures: refused, counted, not stored.
	forged := []byte(hubRSS(hub.srv.URL+"/", topic, item{"Forged story", "https://evil.example/forged", "Not from the hub."}))
	if code := hub.publish(t, topic, forged, func([]byte) string { return websub.Sign("sha256", []byte("guess"), forged) }); code != http.StatusForbidden {
		t.Errorf("push with a bad signature answered %d, want 403", code)
	}
	if code := hub.publish(t, topic, forged, func(s []byte) string { return websub.Sign("sha256", s, doc) }); code != http.StatusForbidden {
		t.Errorf("push with another body's signature answered %d, want 403", code)
	}
	if code := hub.publish(t, topic, forged, func([]byte) string { return "" }); code != http.StatusForbidden {
		t.Errorf("push without a signature answered %d, want 403", code)
	}
	if got := r.metric(t, "newswatch_websub_pushes_total", map[string]string{"result": "bad_signature"}); got != 2 {
		t.Errorf("pushes{bad_signature} = %v, want 2", got)
	}
	if got := r.metric(t, "newswatch_websub_pushes_total", map[string]string{"result": "no_signature"}); got != 1 {
		t.Errorf("pushes{no_signature} = %v, want 1", got)
	}
	if got := r.metric(t, "newswatch_websub_pushes_total", map[string]string{"result": "ok"}); got != 22 {
		t.Errorf("pushes{ok} = %v, want 22", got)
	}
	if n := titled(r, t, "Forged story"); n != 0 {
		t.Errorf("a forged push was stored")
	}

	// Verifications the daemon did not ask for are refused.
	cb := proxy.srv.URL + "/websub/pushed"
	for name, q := range map[string]url.Values{
		"unknown topic":       {"hub.mode": {"subscribe"}, "hub.topic": {"https://evil.example/feed"}, "hub.challenge": {"c1"}},
		"unsubscribe":         {"hub.mode": {"unsubscribe"}, "hub.topic": {topic}, "hub.challenge": {"c2"}},
		"no request pending":  {"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c3"}, "hub.lease_seconds": {"99999"}},
		"denied, wrong topic": {"hub.mode": {"denied"}, "hub.topic": {"https://evil.example/feed"}},
	} {
		if name == "no request pending" {
			// Between renewals: wait until nothing is pending, so only a forgery could verify.
			waitFor(t, "no pending renewal", func() bool { s, _ := r.app.websub.Subscription("pushed"); return !s.Pending() })
		}
		if code, body := hub.get(cb, q); code != http.StatusNotFound {
			t.Errorf("%s: verification answered %d %q, want 404", name, code, body)
		}
	}
	if code, _ := hub.get(proxy.srv.URL+"/websub/nope", url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c"}}); code != http.StatusNotFound {
		t.Errorf("verification for an unknown feed answered %d", code)
	}
	if got := r.metric(t, "newswatch_websub_verifications_total", map[string]string{"result": "refused"}); got < 5 {
		t.Errorf("verifications{refused} = %v, want at least 5", got)
	}

	// The 2 s lease is renewed before it ends, keeping the secret.
	secret := sub.Get("hub.secret")
	_, before := hub.subscription(topic)
	waitFor(t, "a renewal", func() bool {
		s, n := hub.subscription(topic)
		return n >= before+2 && s.Get("hub.secret") == secret
	})
	if got := r.metric(t, "newswatch_websub_subscribe_requests_total", map[string]string{"reason": "renew", "result": "accepted"}); got < 2 {
		t.Errorf("renewals = %v, want at least 2", got)
	}
	if s, _ := r.app.websub.Subscription("pushed"); s.Secret != secret || s.State != websub.StateActive {
		t.Errorf("after renewals: state %s, secret kept %v", s.State, s.Secret == secret)
	}

	// Down past the lease's end: at the next start the daemon subscribes anew.
	r.stop()
	proxy.target.Store("")
	expired := time.Now().Add(3 * time.Second)
	for time.Now().Before(expired) { // the lease (2 s) runs out while nothing renews it
		time.Sleep(50 * time.Millisecond)
	}
	requests := hub.requestCount()
	r = start()
	waitFor(t, "a new subscription after the lease ran out", func() bool {
		s, _ := hub.subscription(topic)
		return hub.requestCount() > requests && s.Get("hub.secret") != secret
	})
	if got := r.metric(t, "newswatch_websub_subscribe_requests_total", map[string]string{"reason": "expired", "result": "accepted"}); got != 1 {
		t.Errorf("subscribe_requests{expired} = %v, want 1", got)
	}
	waitFor(t, "the new subscription to be active", func() bool {
		s, ok := r.app.websub.Subscription("pushed")
		return ok && s.State == websub.StateActive && s.Secret != secret
	})
	late := []byte(hubRSS(hub.srv.URL+"/", topic, item{"After the restart", "https://news.example/late", "Pushed again."}))
	if code := hub.publish(t, topic, late, func([]byte) string { return websub.Sign("sha512", []byte(secret), late) }); code != http.StatusForbidden {
		t.Errorf("push signed with the old secret answered %d, want 403", code)
	}
	if code := hub.publish(t, topic, late, func(s []byte) string { return websub.Sign("sha512", s, late) }); code != http.StatusNoContent {
		t.Errorf("push signed with the new secret answered %d, want 204", code)
	}
	if n := titled(r, t, "After the restart"); n != 1 {
		t.Errorf("push after the restart stored %d times", n)
	}
}
