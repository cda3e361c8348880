package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
)

const testSecret = "whsec-9f8e7d6c5b4a"

func testAlert() notify.Alert {
	pub := time.Date(2026, 11, 25, 9, 58, 0, 0, time.UTC)
	return notify.Alert{
		ID: "alert-dprk-russia-42", Topic: "dprk-russia", TopicName: "DPRK–Russia military cooperation",
		Kind: notify.KindMatch, FiredAt: time.Date(2026, 11, 25, 10, 0, 5, 0, time.UTC),
		Summary: "1 new story for DPRK–Russia military cooperation",
		Articles: []notify.Article{{
			ID: "3f1c0d6a", URL: "https://example.org/a?x=1&y=<2>", Title: "Северная Корея & Россия",
			Source: "wire", PublishedAt: pub, FirstSeenAt: pub.Add(time.Minute), Matched: []string{"россия"},
		}},
	}
}

// delivery is what a receiver saw of one request.
type delivery struct {
	method string
	header http.Header
	body   []byte
	verify error
}

// receiver is a real webhook endpoint that records deliveries, verifies signatures with
// Verify at the sender's clock, and answers with the next queued status (200 when none).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []delivery
	statuses []int
	now      time.Time
}

func newReceiver(t *testing.T, now time.Time, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses, now: now}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	d := delivery{method: req.Method, header: req.Header.Clone(), body: body}
	d.verify = Verify(testSecret, req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature), body, r.now, time.Minute)
	r.got = append(r.got, d)
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func TestNotifyDelivers(t *testing.T) {
	now := time.Unix(1795600805, 0)
	rcv := newReceiver(t, now)
	n := New(Config{Name: "ops", URL: rcv.URL + "/hook", Secret: testSecret, UserAgent: "newswatch/test", Now: func() time.Time { return now }})
	if n.Name() != "ops" {
		t.Errorf("Name() = %q", n.Name())
	}
	a := testAlert()
	retry, err := n.Notify(t.Context(), a)
	if retry || err != nil {
		t.Fatalf("Notify = %v, %v; want delivered", retry, err)
	}
	got := rcv.deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	d := got[0]
	want, _ := json.Marshal(a)
	if string(d.body) != string(want) {
		t.Errorf("body = %s\nwant %s", d.body, want)
	}
	var back notify.Alert
	if err := json.Unmarshal(d.body, &back); err != nil || !reflect.DeepEqual(back, a) {
		t.Errorf("body decodes to %+v, %v; want the alert", back, err)
	}
	for k, v := range map[string]string{
		"Content-Type":       "application/json",
		"User-Agent":         "newswatch/test",
		HeaderIdempotencyKey: a.ID,
		HeaderTimestamp:      "1795600805",
		HeaderSignature:      Sign(testSecret, 1795600805, want),
	} {
		if h := d.header.Get(k); h != v {
			t.Errorf("header %s = %q, want %q", k, h, v)
		}
	}
	if d.method != http.MethodPost || d.verify != nil {
		t.Errorf("method %s, Verify: %v", d.method, d.verify)
	}
}

func TestNotifyUnsignedWithoutSecret(t *testing.T) {
	rcv := newReceiver(t, time.Now())
	if retry, err := New(Config{URL: rcv.URL}).Notify(t.Context(), testAlert()); retry || err != nil {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	d := rcv.deliveries()[0]
	if _, ok := d.header[HeaderSignature]; ok {
		t.Error("unsigned delivery has a signature header")
	}
	if d.header.Get(HeaderTimestamp) == "" || d.header.Get("User-Agent") != DefaultUserAgent {
		t.Errorf("headers: %v", d.header)
	}
	if !errors.Is(d.verify, ErrMissingSignature) {
		t.Errorf("Verify of an unsigned delivery = %v, want ErrMissingSignature", d.verify)
	}
}

// TestNotifyRetryResigns checks that a retry after a 503 carries the same body and key and a
// fresh timestamp and signature.
func TestNotifyRetryResigns(t *testing.T) {
	now := time.Unix(1795600805, 0)
	rcv := newReceiver(t, now, http.StatusServiceUnavailable)
	n := New(Config{URL: rcv.URL, Secret: testSecret, Now: func() time.Time { return now }})
	if retry, err := n.Notify(t.Context(), testAlert()); !retry || err == nil {
		t.Fatalf("first Notify = %v, %v; want retry", retry, err)
	}
	now = now.Add(30 * time.Second)
	rcv.now = now
	if retry, err := n.Notify(t.Context(), testAlert()); retry || err != nil {
		t.Fatalf("second Notify = %v, %v; want delivered", retry, err)
	}
	d := rcv.deliveries()
	if string(d[0].body) != string(d[1].body) || d[0].header.Get(HeaderIdempotencyKey) != d[1].header.Get(HeaderIdempotencyKey) {
		t.Error("a retry changed the body or the idempotency key")
	}
	if d[0].header.Get(HeaderTimestamp) == d[1].header.Get(HeaderTimestamp) || d[1].verify != nil {
		t.Errorf("a retry was not signed anew: %v", d[1].verify)
	}
}

func TestNotifyOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		timeout   time.Duration
		wantRetry bool
		wantDelay time.Duration
		wantInErr string
	}{
		{name: "500", handler: status(500, nil), wantRetry: true, wantInErr: "500"},
		{name: "429 Retry-After", handler: status(429, map[string]string{"Retry-After": "42"}), wantRetry: true, wantDelay: 42 * time.Second},
		{name: "400 permanent", handler: status(400, nil), wantInErr: "400 Bad Request"},
		{name: "410 permanent", handler: status(410, nil), wantInErr: "410 Gone"},
		{name: "redirect permanent", handler: status(302, map[string]string{"Location": "https://other.example/in"}), wantInErr: "https://other.example/in"},
		{name: "timeout", timeout: 50 * time.Millisecond, wantRetry: true, wantInErr: "timed out", handler: hang},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			// A client that follows redirects by default: New must not let it.
			n := New(Config{Name: "ops", URL: srv.URL + "/in?token=" + testSecret, Secret: testSecret, Timeout: tt.timeout, Client: &http.Client{}})
			retry, err := n.Notify(t.Context(), testAlert())
			if retry != tt.wantRetry || err == nil {
				t.Fatalf("Notify = %v, %v; want retry=%v and an error", retry, err, tt.wantRetry)
			}
			if d, _ := notify.RetryDelay(err); d != tt.wantDelay {
				t.Errorf("RetryDelay = %v, want %v", d, tt.wantDelay)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) || !strings.HasPrefix(err.Error(), "webhook ops: ") {
				t.Errorf("error %q lacks %q or the receiver name", err, tt.wantInErr)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}

func TestNotifyInvalidConfigIsPermanent(t *testing.T) {
	for _, u := range []string{"", "ftp://example.org/x", "/relative", "https://"} {
		cfg := Config{URL: u, Secret: testSecret}
		if cfg.Validate() == nil {
			t.Errorf("Validate(%q) = nil", u)
		}
		retry, err := New(cfg).Notify(t.Context(), testAlert())
		if retry || !errors.Is(err, ErrConfig) {
			t.Errorf("Notify with url %q = %v, %v; want permanent ErrConfig", u, retry, err)
		}
	}
	if err := (Config{URL: "https://h.example/x", Timeout: -time.Second}).Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("negative timeout: Validate = %v", err)
	}
	if err := (Config{URL: "https://h.example/x"}).Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

func TestNotifyCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hang))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	retry, err := New(Config{URL: srv.URL}).Notify(ctx, testAlert())
	if !retry || !errors.Is(err, context.Canceled) {
		t.Errorf("Notify after cancel = %v, %v; want retry with context.Canceled", retry, err)
	}
}

// hang answers only once the client has gone. It reads the body first: only then does the
// server watch the connection and cancel the request's context when the client hangs up.
func hang(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

func status(code int, header map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
	}
}

func BenchmarkNotify(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	n := New(Config{URL: srv.URL, Secret: testSecret, Client: srv.Client()})
	a := testAlert()
	for b.Loop() {
		if _, err := n.Notify(b.Context(), a); err != nil {
			b.Fatal(err)
		}
	}
}
