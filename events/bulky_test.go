package events_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/events"
)

// bulky is a projection whose snapshot is as large as a test needs. It counts events and
// carries random pad bytes of its own: a projection that was restored has the pad of the one
// that saved, one that was rebuilt keeps its own, and a lost byte shows.
type bulky struct {
	mu      sync.Mutex
	count   int
	pad     []byte
	applies int // Apply calls since construction: 0 after a restore, not after a rebuild
}

type bulkyState struct {
	Count int    `json:"count"`
	Pad   []byte `json:"pad"`
}

const bulkySubject = events.PollSubjectPrefix + "bulky"

// newBulky returns a bulky whose snapshot is about padBytes*4/3 bytes (the pad is base64).
func newBulky(padBytes int, seed uint64) *bulky {
	pad := make([]byte, padBytes)
	_, _ = rand.NewChaCha8([32]byte{byte(seed)}).Read(pad)
	return &bulky{pad: pad}
}

func (b *bulky) Name() string { return "bulky" }

func (b *bulky) Apply([]byte, uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count++
	b.applies++
	return nil
}

func (b *bulky) Snapshot() ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return json.Marshal(bulkyState{Count: b.count, Pad: b.pad})
}

func (b *bulky) Restore(data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if data == nil {
		b.count = 0
		return nil
	}
	var st bulkyState
	if err := json.Unmarshal(data, &st); err != nil {
		return err
	}
	b.count, b.pad = st.Count, st.Pad
	return nil
}

// state returns the count, the Apply calls and the pad's digest.
func (b *bulky) state() (count, applies int, pad [32]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count, b.applies, sha256.Sum256(b.pad)
}

// publishPolls appends n events for bulky and returns the last one's sequence.
func publishPolls(t *testing.T, c *events.Conn, n int) uint64 {
	t.Helper()
	var last uint64
	for range n {
		ack, err := c.JS.Publish(t.Context(), bulkySubject, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		last = ack.Sequence
	}
	return last
}

// runProjector runs a projector for proj; stop ends it and waits for its final save.
func runProjector(t *testing.T, c *events.Conn, proj events.Projection, log *slog.Logger) (p *events.Projector, stop func()) {
	t.Helper()
	return runProjectorWith(t, c, proj, log, func(*events.Projector) {})
}

// runProjectorWith is runProjector with setup applied to the projector before it runs.
func runProjectorWith(t *testing.T, c *events.Conn, proj events.Projection, log *slog.Logger, setup func(*events.Projector)) (p *events.Projector, stop func()) {
	t.Helper()
	p = c.NewProjector(proj, events.PollStream, []string{bulkySubject}, log)
	setup(p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return p, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// Generous: restoring a 12 MiB snapshot under -race on a busy 2-core machine has taken
	// over 30 s.
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func kvValue(t *testing.T, c *events.Conn, key string) []byte {
	t.Helper()
	kv, err := c.JS.KeyValue(t.Context(), events.ProjectionBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("key %s: %v", key, err)
	}
	return e.Value()
}

// pointedObject returns the object key points at, failing when it holds the value itself.
func pointedObject(t *testing.T, c *events.Conn, key string) string {
	t.Helper()
	v := kvValue(t, c, key)
	var ptr struct {
		Object string `json:"object"`
	}
	if len(v) > 1024 || json.Unmarshal(v, &ptr) != nil || ptr.Object == "" {
		t.Fatalf("key %s holds %d bytes, not a pointer: %.200s", key, len(v), v)
	}
	return ptr.Object
}

func objectStore(t *testing.T, c *events.Conn) jetstream.ObjectStore {
	t.Helper()
	obs, err := c.JS.ObjectStore(t.Context(), events.SnapshotObjectBucket)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// objectsOf lists the objects (not deleted) whose names start with key + "/".
func objectsOf(t *testing.T, c *events.Conn, key string) []string {
	t.Helper()
	infos, err := objectStore(t, c).List(t.Context())
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, info := range infos {
		if strings.HasPrefix(info.Name, key+"/") {
			names = append(names, info.Name)
		}
	}
	return names
}

// syncBuffer collects log output written from the projector's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
