package fetch

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
)

// rawServer answers every request with the given bytes, then closes the
// connection: a stand-in for broken or hostile servers that net/http's own
// server would never emulate.
func rawServer(t *testing.T, response string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				_, _ = conn.Write([]byte(response))
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/feed"
}

func TestFetchMalformedResponses(t *testing.T) {
	tests := []struct {
		name     string
		response string
		kind     Kind
		status   int
	}{
		{"not http", "SSH-2.0-OpenSSH_9.6\r\n\r\n", KindNetwork, 0},
		{"empty", "", KindNetwork, 0},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n<rss>", KindNetwork, 0},
		{"broken chunking", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n<rss>\r\n", KindNetwork, 0},
		{"gzip that is not gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\n<rss>", KindNetwork, 0},
		{"huge header", "HTTP/1.1 200 OK\r\nX-Junk: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", KindNetwork, 0},
		{"bad location", "HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n", KindNetwork, 0},
		{"redirect without location", "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", KindHTTP, 302},
		{"odd status", "HTTP/1.1 999 Whatever\r\nContent-Length: 0\r\n\r\n", KindHTTP, 999},
		{"bad retry-after", "HTTP/1.1 503 Busy\r\nRetry-After: \xff\xfe-1e99\r\nContent-Length: 0\r\n\r\n", KindHTTP, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newTestFetcher(t, Config{AllowNetworks: loopbackOnly})
			_, err := f.Fetch(t.Context(), Request{URL: rawServer(t, tt.response)})
			fe := wantError(t, err, tt.kind)
			if fe.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d; err: %v", fe.StatusCode, tt.status, err)
			}
		})
	}
}
