package events_test

import (
	"net"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/events"
)

// A busy client port fails Connect with the bind error itself, as a busy HTTP port does,
// instead of a timeout and a guess.
func TestBusyNATSPortFailsWithTheBindError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	c, err := events.Connect(t.Context(), events.ConnConfig{DataDir: t.TempDir(), Listen: addr}, quietLog())
	if err == nil {
		c.Close()
		t.Fatal("Connect succeeded on a busy port")
	}
	if want := "nats.listen " + addr + ": listen tcp " + addr + ": bind: address already in use"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
	// The data directory is not left locked: a second attempt on a free port works.
	dir := t.TempDir()
	if _, err := events.Connect(t.Context(), events.ConnConfig{DataDir: dir, Listen: addr}, quietLog()); err == nil {
		t.Fatal("second Connect on the busy port succeeded")
	}
	c, err = events.Connect(t.Context(), events.ConnConfig{DataDir: dir, Listen: "127.0.0.1:0"}, quietLog())
	if err != nil {
		t.Fatalf("after a busy port, the data dir stays locked: %v", err)
	}
	c.Close()
}
