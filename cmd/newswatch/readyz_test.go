package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startNATS runs a JetStream server on addr storing in dir, as an external NATS would be.
func startNATS(t *testing.T, addr, dir string) *server.Server {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	s, err := server.NewServer(&server.Options{Host: host, Port: p, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	return s
}

func readyStatus(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitReady(t *testing.T, addr string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for readyStatus(t, addr) != want {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d, want %d", readyStatus(t, addr), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// /readyz follows the NATS connection: not ready while the server is gone, ready again after
// it comes back, with no restart of newswatch.
func TestReadyzFollowsNATS(t *testing.T) {
	fs := newFeedServer(t)
	seedFeeds(fs)
	natsAddr, natsDir := freePort(t), t.TempDir()
	srv := startNATS(t, natsAddr, natsDir)
	defer func() { srv.Shutdown() }()
	cfg := testConfig(t, t.TempDir(), fs.srv.URL, fmt.Sprintf("%s\n", topicsYAML))
	cfg.NATS.URL = "nats://" + natsAddr
	r := startApp(t, cfg)
	addr := r.app.HTTPAddr()
	waitReady(t, addr, http.StatusOK)
	if v := r.metric(t, "newswatch_nats_connected", nil); v != 1 {
		t.Errorf("nats_connected = %v", v)
	}

	srv.Shutdown()
	srv.WaitForShutdown()
	waitReady(t, addr, http.StatusServiceUnavailable)
	// /readyz may fail on a request to the vanished server a moment before the client notices
	// the closed socket; the gauge must follow within the same deadline.
	deadline := time.Now().Add(20 * time.Second)
	for r.metric(t, "newswatch_nats_connected", nil) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("nats_connected still 1 20 s after NATS went down")
		}
		time.Sleep(50 * time.Millisecond)
	}

	srv = startNATS(t, natsAddr, natsDir)
	waitReady(t, addr, http.StatusOK)
	if v := r.metric(t, "newswatch_nats_connected", nil); v != 1 {
		t.Errorf("nats_connected after NATS came back = %v", v)
	}
	// And the pipeline works again: a poll stores its articles.
	fs.set("/blog.xml", rss("Blog", item{"After the outage", "https://blog.example.org/after", "Back."}))
	p := pollNow(t, r, "blog", "ok")
	if p.New != 1 {
		t.Errorf("poll after reconnect = %+v", p)
	}
}
