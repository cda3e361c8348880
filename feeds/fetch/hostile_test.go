package fetch

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFetchEndlessBody serves a body that never ends, quickly and then slowly: the fetcher
// stops reading at the body limit, or at the deadline, and the server sees the connection
// close.
func TestFetchEndlessBody(t *testing.T) {
	chunk := []byte(strings.Repeat("<item><title>again</title></item>\n", 1000))
	tests := []struct {
		name     string
		pause    time.Duration
		timeout  time.Duration
		wantKind Kind
	}{
		// The size limit ends a fast body. The timeout is far beyond what sending 4 MiB over
		// loopback takes even on a busy machine under -race, so only the limit can end it.
		{"fast", 0, time.Minute, KindTooLarge},
		// A slow body (34 KB every 50 ms: 4 MiB would take 6 s) ends at the request's deadline.
		{"slow", 50 * time.Millisecond, time.Second, KindNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int64
			stopped := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(stopped)
				w.Header().Set("Content-Type", "application/rss+xml")
				_, _ = w.Write([]byte(`<rss version="2.0"><channel>`))
				// Bounded, so that a broken fetcher fails the test instead of hanging it.
				for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
					n, err := w.Write(chunk)
					sent.Add(int64(n))
					if err != nil {
						return
					}
					if tt.pause > 0 {
						w.(http.Flusher).Flush()
						time.Sleep(tt.pause)
					}
				}
			}))
			defer srv.Close()
			const limit = 4 << 20
			f := newTestFetcher(t, Config{MaxBodyBytes: limit, Timeout: tt.timeout, AllowNetworks: loopbackOnly})

			start := time.Now()
			_, err := f.Fetch(t.Context(), Request{URL: srv.URL})
			elapsed := time.Since(start)
			wantError(t, err, tt.wantKind)
			// The server stops writing once the fetcher has closed the connection; generous, as
			// a loaded machine may be slow to notice.
			select {
			case <-stopped:
			case <-time.After(30 * time.Second):
				t.Fatal("the server is still sending 30s after the fetch returned")
			}
			t.Logf("%s: %s after %d KB sent", err, elapsed.Round(time.Millisecond), sent.Load()>>10)
			if tt.wantKind == KindTooLarge && sent.Load() > 64*limit {
				t.Errorf("read on after the limit: %d KB sent for a %d KB limit", sent.Load()>>10, limit>>10)
			}
		})
	}
}

// TestFetchTrickle serves a feed one byte a second: each read succeeds, so only the
// deadline for the whole request ends it.
func TestFetchTrickle(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		for _, b := range []byte(`<rss version="2.0"><channel><title>slow</title></channel></rss>`) {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	}))
	defer srv.Close()
	f := newTestFetcher(t, Config{Timeout: 2500 * time.Millisecond, AllowNetworks: loopbackOnly})
	start := time.Now()
	_, err := f.Fetch(t.Context(), Request{URL: srv.URL})
	elapsed := time.Since(start)
	fe := wantError(t, err, KindNetwork)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasSuffix(fe.Error(), "timed out after 2.5s reading the body (fetch.timeout)") {
		t.Errorf("err = %v", err)
	}
	if elapsed < 2*time.Second || elapsed > 5*time.Second {
		t.Errorf("took %s, want the 2.5s deadline", elapsed)
	}
}

// TestFetchGzipBombEndless is TestFetchGzipBomb's bomb without a Content-Length, from a
// server that would send it a hundred times over.
func TestFetchGzipBombEndless(t *testing.T) {
	bomb := gzipBomb(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		for range 100 { // 10 GiB decompressed
			if _, err := w.Write(bomb); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	f := newTestFetcher(t, Config{MaxBodyBytes: 1 << 20, AllowNetworks: loopbackOnly})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := f.Fetch(t.Context(), Request{URL: srv.URL})
	runtime.ReadMemStats(&after)
	wantError(t, err, KindTooLarge)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
}

// dnsServer answers every A and AAAA query on loopback with the address answer returns, as
// a DNS server under an attacker's control would: a name it serves can resolve to anything.
func dnsServer(t *testing.T, answer func() netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], answer()); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// dnsAnswer builds the response to a one-question query: addr when the question asks for
// its type (A for IPv4, AAAA for IPv6), else no answer.
func dnsAnswer(q []byte, addr netip.Addr) []byte {
	i := 12
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	resp := append([]byte(nil), q[:i+5]...)
	resp[2], resp[3] = 0x81, 0x80 // a response, recursion desired and available, no error
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	if (qtype == 1 && addr.Is4()) || (qtype == 28 && addr.Is6()) {
		binary.BigEndian.PutUint16(resp[6:], 1)
		resp = append(resp, 0xc0, 12) // the name in the question
		resp = binary.BigEndian.AppendUint16(resp, qtype)
		resp = append(resp, 0, 1, 0, 0, 0, 0) // class IN, TTL 0
		ip := addr.AsSlice()
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(ip)))
		resp = append(resp, ip...)
	}
	return resp
}

// TestFetchRefusesWhatDNSSays resolves a host name through a hostile DNS server: the guard
// checks the address the name resolves to when dialling, so a name resolving to a refused
// address is refused, and so is a name that first resolves to an allowed address and then,
// on the next connection, to a refused one (DNS rebinding).
func TestFetchRefusesWhatDNSSays(t *testing.T) {
	t.Parallel()
	allowedSrv, _ := countingServer(t, nil)
	port := allowedSrv.Listener.Addr().(*net.TCPAddr).Port
	ln, err := net.Listen("tcp", "127.0.0.2:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("this platform cannot listen on 127.0.0.2:%d: %v", port, err)
	}
	_, refusedConns := countingServer(t, ln)

	var answer atomic.Value
	answer.Store(netip.MustParseAddr("127.0.0.2"))
	f := newTestFetcher(t, Config{AllowNetworks: loopbackOnly})
	f.dialer.Resolver = dnsServer(t, func() netip.Addr { return answer.Load().(netip.Addr) })
	url := "http://feed.rebind.test:" + strconv.Itoa(port) + "/feed"

	_, err = f.Fetch(t.Context(), Request{URL: url})
	fe := wantError(t, err, KindRefused)
	if !strings.Contains(fe.Error(), "refused to connect to 127.0.0.2:"+strconv.Itoa(port)+": it is a loopback address") {
		t.Errorf("message = %q", fe.Error())
	}

	answer.Store(netip.MustParseAddr("127.0.0.1"))
	if _, err := f.Fetch(t.Context(), Request{URL: url}); err != nil {
		t.Fatalf("resolving to an allowed address: %v", err)
	}
	f.CloseIdleConnections()
	answer.Store(netip.MustParseAddr("127.0.0.2"))
	_, err = f.Fetch(t.Context(), Request{URL: url})
	wantError(t, err, KindRefused)

	answer.Store(netip.MustParseAddr("::ffff:127.0.0.2"))
	_, err = f.Fetch(t.Context(), Request{URL: url})
	wantError(t, err, KindRefused)

	if n := refusedConns.Load(); n != 0 {
		t.Errorf("the refused address saw %d connections", n)
	}
}
