package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gzipBomb returns 100 MiB of zeros as gzip, about 100 KB on the wire. It is
// 100 concatenated 1 MiB members, which a gzip reader decodes as one
// stream; compressing 100 MiB in one go takes seconds under -race.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	member := gzipBytes(t, make([]byte, 1<<20))
	return bytes.Repeat(member, 100)
}

// Not parallel: it measures allocations of the whole process.
func TestFetchGzipBomb(t *testing.T) {
	bomb := gzipBomb(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb)
	}))
	defer srv.Close()
	const limit = 1 << 20
	f := newTestFetcher(t, Config{MaxBodyBytes: limit, AllowNetworks: loopbackOnly})

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := f.Fetch(t.Context(), Request{URL: srv.URL})
	runtime.ReadMemStats(&after)

	wantError(t, err, KindTooLarge)
	// Reading all of it would allocate well over 100 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*limit {
		t.Errorf("allocated %d MiB fetching a gzip bomb with a 1 MiB limit", alloc>>20)
	}
}

func TestFetchTimeout(t *testing.T) {
	tests := []struct {
		name      string
		handler   func(w http.ResponseWriter, r *http.Request)
		wantStage string
	}{
		{"slow headers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, "waiting for the response"},
		{"trickling body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; i < 500; i++ {
				if _, err := w.Write([]byte("<")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
			}
		}, "reading the body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(tt.handler))
			defer srv.Close()
			f := newTestFetcher(t, Config{Timeout: 300 * time.Millisecond, AllowNetworks: loopbackOnly})

			start := time.Now()
			_, err := f.Fetch(t.Context(), Request{URL: srv.URL})
			elapsed := time.Since(start)

			fe := wantError(t, err, KindNetwork)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, DeadlineExceeded) = false for %v", err)
			}
			want := "timed out after 300ms " + tt.wantStage + " (fetch.timeout)"
			if !strings.HasSuffix(fe.Error(), want) {
				t.Errorf("message = %q, want suffix %q", fe.Error(), want)
			}
			if elapsed > 3*time.Second {
				t.Errorf("took %s, want about 300ms", elapsed)
			}
		})
	}
}

func TestFetchContextCanceled(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hold)
	f := newTestFetcher(t, Config{PerHostConcurrency: 1, AllowNetworks: loopbackOnly})

	// The first fetch is cancelled while waiting for the server; it holds
	// the host's only slot, so the second is cancelled while queued.
	ctx1, cancel1 := context.WithCancel(t.Context())
	defer cancel1()
	first := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx1, Request{URL: srv.URL + "/1"})
		first <- err
	}()
	waitFor(t, func() bool { return f.limiter.busy("127.0.0.1") })

	ctx2, cancel2 := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel2()
	_, err := f.Fetch(ctx2, Request{URL: srv.URL + "/2"})
	fe := wantError(t, err, KindNetwork)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(fe.Error(), "waiting for a free per-host slot") {
		t.Errorf("queued fetch: err = %v, want the caller's deadline while waiting for a slot", err)
	}

	cancel1()
	err = <-first
	wantError(t, err, KindNetwork)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("in-flight fetch: err = %v, want context.Canceled", err)
	}
	if _, ok := errors.AsType[*timeoutError](err); ok {
		t.Errorf("cancellation reported as a timeout: %v", err)
	}
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFetchPerHostConcurrency(t *testing.T) {
	t.Parallel()
	const limit, fetches = 2, 6
	var inFlight, peak atomic.Int32
	arrived := make(chan struct{}, fetches)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		arrived <- struct{}{}
		<-release
		_, _ = w.Write([]byte("<rss/>"))
	}))
	defer srv.Close()
	f := newTestFetcher(t, Config{PerHostConcurrency: limit, AllowNetworks: loopbackOnly})

	var wg sync.WaitGroup
	errs := make(chan error, fetches)
	for i := range fetches {
		wg.Go(func() {
			_, err := f.Fetch(t.Context(), Request{URL: fmt.Sprintf("%s/feed/%d", srv.URL, i)})
			errs <- err
		})
	}
	for range limit {
		<-arrived
	}
	// With the first two parked in the handler, nobody else may arrive.
	select {
	case <-arrived:
		t.Errorf("a request beyond the per-host limit of %d reached the server", limit)
	case <-time.After(150 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := peak.Load(); got != limit {
		t.Errorf("peak concurrent requests = %d, want %d", got, limit)
	}
	if n := f.limiter.tracked(); n != 0 {
		t.Errorf("limiter still tracks %d hosts after all fetches finished", n)
	}
}

func TestFetchRedirects(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	mux := http.NewServeMux()
	// /chain/N redirects N more times, then serves the feed.
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var n int
		_, _ = fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			_, _ = w.Write([]byte("<rss/>"))
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/b", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/a", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := newTestFetcher(t, Config{AllowNetworks: loopbackOnly})

	resp, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/chain/10"})
	if err != nil {
		t.Fatalf("10 redirects: %v", err)
	}
	if want := srv.URL + "/chain/0"; resp.FinalURL != want {
		t.Errorf("FinalURL = %q, want %q", resp.FinalURL, want)
	}
	if n := hits.Load(); n != 11 {
		t.Errorf("server saw %d requests, want 11", n)
	}

	for _, path := range []string{"/chain/11", "/loop/a"} {
		_, err := f.Fetch(t.Context(), Request{URL: srv.URL + path})
		fe := wantError(t, err, KindHTTP)
		if !strings.Contains(fe.Error(), "stopped after 10 redirects") {
			t.Errorf("%s: message = %q", path, fe.Error())
		}
	}
}

// busy reports whether any slot for host is held.
func (l *hostLimiter) busy(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.hosts[host]
	return s != nil && len(s.sem) > 0
}

// tracked reports how many hosts the limiter holds state for.
func (l *hostLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.hosts)
}
