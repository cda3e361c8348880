package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

func startServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true, DontListen: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// node connects its own client (so a test can cut it off like a dead process) and joins.
func node(t *testing.T, s *server.Server, id string, ttl time.Duration) (*Node, *nats.Conn) {
	t.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(t.Context(), js, Config{Instance: id, TTL: ttl, Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler), Roles: []string{"r"}})
	if err != nil {
		t.Fatal(err)
	}
	return n, nc
}

func TestOwnerSpreadsAndMovesLittle(t *testing.T) {
	three := []string{"a", "b", "c"}
	count := map[string]int{}
	moved := 0
	const feeds = 3000
	for i := range feeds {
		f := fmt.Sprintf("feed-%d", i)
		o := Owner(three, f)
		count[o]++
		o2 := Owner([]string{"a", "b"}, f)
		if o != "c" && o2 != o {
			moved++ // a feed of a or b moved although only c left
		}
	}
	for _, m := range three {
		if count[m] < feeds/3*8/10 || count[m] > feeds/3*12/10 {
			t.Errorf("member %s owns %d of %d feeds; want about a third: %v", m, count[m], feeds, count)
		}
	}
	if moved != 0 {
		t.Errorf("%d feeds of the members that stayed moved when one left", moved)
	}
	if Owner(nil, "x") != "" {
		t.Error("no members must own nothing")
	}
}

// roleLog records when each node runs the role and the most that ran at once.
type roleLog struct {
	mu        sync.Mutex
	running   map[string]bool
	starts    map[string]int
	maxAtOnce int
	since     map[string]time.Time
}

func (l *roleLog) fn(id string) func(context.Context) error {
	return func(ctx context.Context) error {
		l.mu.Lock()
		l.running[id] = true
		l.starts[id]++
		l.since[id] = time.Now()
		l.maxAtOnce = max(l.maxAtOnce, len(l.running))
		l.mu.Unlock()
		<-ctx.Done()
		l.mu.Lock()
		delete(l.running, id)
		l.mu.Unlock()
		return nil
	}
}

func (l *roleLog) holder() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.running {
		return id
	}
	return ""
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

func TestLeaseFailsOverWithoutOverlap(t *testing.T) {
	s := startServer(t)
	const ttl = 2 * time.Second
	a, anc := node(t, s, "a", ttl)
	b, _ := node(t, s, "b", ttl)
	c, _ := node(t, s, "c", ttl)
	l := &roleLog{running: map[string]bool{}, starts: map[string]int{}, since: map[string]time.Time{}}
	actx, acancel := context.WithCancel(t.Context())
	defer acancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.Hold(actx, "r", l.fn("a")) }()
	waitFor(t, "a holds the role", 10*time.Second, func() bool { return l.holder() == "a" && a.Holds("r") })
	bctx, bcancel := context.WithCancel(t.Context())
	wg.Add(2)
	go func() { defer wg.Done(); _ = b.Hold(bctx, "r", l.fn("b")) }()
	cctx, ccancel := context.WithCancel(t.Context())
	go func() { defer wg.Done(); _ = c.Hold(cctx, "r", l.fn("c")) }()
	time.Sleep(2 * ttl)
	if h := l.holder(); h != "a" {
		t.Fatalf("holder changed to %q while a was alive", h)
	}
	// a dies: its connection is cut, nothing released.
	anc.Close()
	took := waitFor(t, "a standby takes over after a dies", 5*ttl, func() bool { h := l.holder(); return h == "b" || h == "c" })
	t.Logf("failover after an abrupt death: %s (ttl %s)", took, ttl)
	// A graceful stop hands over at once.
	h := l.holder()
	stop := map[string]context.CancelFunc{"b": bcancel, "c": ccancel}[h]
	start := time.Now()
	stop()
	waitFor(t, "the last standby takes over after a graceful stop", 3*ttl, func() bool { x := l.holder(); return x != "" && x != h })
	t.Logf("handover after a graceful stop: %s", time.Since(start))
	bcancel()
	ccancel()
	acancel()
	wg.Wait()
	if l.maxAtOnce != 1 {
		t.Errorf("up to %d instances ran the role at once; want 1", l.maxAtOnce)
	}
	if l.starts["a"] != 1 {
		t.Errorf("a started the role %d times; want 1", l.starts["a"])
	}
}

func TestClaimAllowsOnePollPerSlot(t *testing.T) {
	s := startServer(t)
	a, _ := node(t, s, "a", 2*time.Second)
	b, _ := node(t, s, "b", 2*time.Second)
	// Both believe they are alone, as right after a join before the lists are refreshed.
	a.members, b.members = []string{"a"}, []string{"b"}
	slot := time.Unix(1_700_000_000, 0)
	var won atomic.Int32
	var wg sync.WaitGroup
	for _, n := range []*Node{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n.OwnsFeed(t.Context(), "f", slot) {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d polls allowed for one slot; want 1", won.Load())
	}
	if !a.OwnsFeed(t.Context(), "f", slot.Add(time.Minute)) {
		t.Error("the next slot of an owned feed was refused")
	}
	if b.OwnsFeed(t.Context(), "g", slot) == (Owner([]string{"b"}, "g") != "b") {
		t.Error("ownership ignored")
	}
}

func TestMembersFollowHeartbeats(t *testing.T) {
	s := startServer(t)
	const ttl = 2 * time.Second
	a, _ := node(t, s, "a", ttl)
	b, bnc := node(t, s, "b", ttl)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = a.Run(ctx) }()
	go func() { _ = b.Run(ctx) }()
	waitFor(t, "a sees both", 5*ttl, func() bool { return len(a.Members()) == 2 })
	bnc.Close()
	waitFor(t, "a sees b gone", 5*ttl, func() bool { m := a.Members(); return len(m) == 1 && m[0] == "a" })
}
