package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// longBody is over 200 bytes, with a multi-byte character at the cut.
var longBody = strings.Repeat("x", 151) + "\n\n  " + strings.Repeat("é", 60)

// statusCases are receiver answers and how Classify must judge them.
var statusCases = []struct {
	name      string
	status    int
	header    map[string]string
	body      string
	wantRetry bool
	wantErr   bool
	wantDelay time.Duration // > 0: a RetryAfterError with this delay
	wantInErr []string
}{
	{name: "200", status: 200, body: "ok"},
	{name: "202", status: 202},
	{name: "204", status: 204},
	{name: "301 names location", status: 301, header: map[string]string{"Location": "https://elsewhere.example/hook"},
		wantErr: true, wantInErr: []string{"301 Moved Permanently", `"https://elsewhere.example/hook"`, "not followed"}},
	{name: "307", status: 307, header: map[string]string{"Location": "/v2"}, wantErr: true, wantInErr: []string{"307", `"/v2"`}},
	{name: "400 quotes body", status: 400, body: "invalid_payload", wantErr: true,
		wantInErr: []string{"400 Bad Request", `"invalid_payload"`}},
	{name: "401", status: 401, wantErr: true, wantInErr: []string{"401 Unauthorized"}},
	{name: "404", status: 404, body: "channel_not_found", wantErr: true, wantInErr: []string{"404", "channel_not_found"}},
	{name: "410", status: 410, wantErr: true},
	{name: "413", status: 413, wantErr: true},
	{name: "422", status: 422, wantErr: true},
	{name: "408", status: 408, wantRetry: true, wantErr: true},
	{name: "425", status: 425, wantRetry: true, wantErr: true},
	{name: "429 without Retry-After", status: 429, wantRetry: true, wantErr: true, wantInErr: []string{"429"}},
	{name: "429 Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "7"},
		wantRetry: true, wantErr: true, wantDelay: 7 * time.Second},
	{name: "429 Retry-After zero", status: 429, header: map[string]string{"Retry-After": "0"}, wantRetry: true, wantErr: true},
	{name: "429 Retry-After garbage", status: 429, header: map[string]string{"Retry-After": "soon"}, wantRetry: true, wantErr: true},
	{name: "429 Retry-After HTTP date", status: 429,
		header: map[string]string{
			"Date":        "Wed, 25 Nov 2026 10:00:00 GMT",
			"Retry-After": "Wed, 25 Nov 2026 10:02:00 GMT",
		},
		wantRetry: true, wantErr: true, wantDelay: 2 * time.Minute},
	{name: "429 Retry-After date in the past", status: 429,
		header: map[string]string{
			"Date":        "Wed, 25 Nov 2026 10:00:00 GMT",
			"Retry-After": "Wed, 25 Nov 2026 09:00:00 GMT",
		},
		wantRetry: true, wantErr: true},
	{name: "500", status: 500, body: "rollup_error", wantRetry: true, wantErr: true, wantInErr: []string{"rollup_error"}},
	{name: "502", status: 502, wantRetry: true, wantErr: true},
	{name: "503 Retry-After", status: 503, header: map[string]string{"Retry-After": "120"},
		wantRetry: true, wantErr: true, wantDelay: 2 * time.Minute},
	{name: "500 ignores Retry-After", status: 500, header: map[string]string{"Retry-After": "120"}, wantRetry: true, wantErr: true},
	{name: "long body cut to 200 bytes on one line", status: 400, body: longBody, wantErr: true,
		wantInErr: []string{strings.Repeat("x", 151) + " " + strings.Repeat("é", 22) + `"`}},
}

func TestClassifyStatus(t *testing.T) {
	for _, tt := range statusCases {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = []string{v}
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()

			retry, err := Classify(post(t, NoRedirects(srv.Client()), srv.URL))
			if retry != tt.wantRetry || (err != nil) != tt.wantErr {
				t.Fatalf("Classify = %v, %v; want retry=%v, error=%v", retry, err, tt.wantRetry, tt.wantErr)
			}
			if err == nil {
				return
			}
			if se, ok := errors.AsType[*StatusError](err); !ok || se.StatusCode != tt.status {
				t.Errorf("error %v is not a *StatusError with status %d", err, tt.status)
			}
			d, ok := RetryDelay(err)
			if ok != (tt.wantDelay > 0) || d != tt.wantDelay {
				t.Errorf("RetryDelay = %v, %v; want %v", d, ok, tt.wantDelay)
			}
			for _, s := range tt.wantInErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestClassifyLargeBody checks that a huge response is read only up to the limit: the
// receiver's write blocks once the client stops reading, and the request still completes.
func TestClassifyLargeBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		chunk := []byte(strings.Repeat("y", 4096))
		for range 10 << 20 / len(chunk) { // 10 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		retry, err := Classify(post(t, srv.Client(), srv.URL))
		if retry || err == nil || !strings.Contains(err.Error(), strings.Repeat("y", 200)+`"`) {
			t.Errorf("Classify = %v, %v", retry, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Classify did not return: it reads the whole body")
	}
}

func TestClassifyRedirectNotFollowed(t *testing.T) {
	var followed bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL+"/moved", http.StatusPermanentRedirect))
	defer srv.Close()

	retry, err := Classify(post(t, NoRedirects(srv.Client()), srv.URL))
	if retry || err == nil || !strings.Contains(err.Error(), target.URL+"/moved") {
		t.Errorf("Classify = %v, %v; want a permanent error naming the Location", retry, err)
	}
	if followed {
		t.Error("the redirect was followed")
	}
}

func TestClassifyTransportErrors(t *testing.T) {
	const secretPath = "/services/T000/B000/s3cr3tT0k3n"
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL + secretPath
		srv.Close()
		retry, err := Classify(post(t, http.DefaultClient, url))
		if !retry || err == nil {
			t.Fatalf("Classify = %v, %v; want retry", retry, err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q reveals the URL", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		retry, err := Classify(postCtx(t, ctx, srv.Client(), srv.URL+secretPath))
		if !retry || err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("Classify = %v, %v; want retry after a timeout", retry, err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q reveals the URL", err)
		}
	})
}

func TestNoRedirectsKeepsClient(t *testing.T) {
	orig := &http.Client{Timeout: 3 * time.Second}
	c := NoRedirects(orig)
	if c == orig || c.Timeout != orig.Timeout || c.CheckRedirect == nil || orig.CheckRedirect != nil {
		t.Errorf("NoRedirects changed the original or lost its settings")
	}
	if NoRedirects(nil).CheckRedirect == nil || http.DefaultClient.CheckRedirect != nil {
		t.Errorf("NoRedirects(nil) must copy, not change, http.DefaultClient")
	}
}

func post(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	return postCtx(t, t.Context(), c, url)
}

func postCtx(t *testing.T, ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}
