package events_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// WatchState signals every write of the key, once at the start too; a reader of the newest
// revision on each signal ends with the last version written, however writes bunch up.
func TestWatchStateFollowsWrites(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	var calls int
	var seen string
	var seenRev uint64
	done := make(chan error, 1)
	go func() {
		done <- c.WatchState(ctx, "follow", func(ctx context.Context) error {
			data, rev, err := c.GetStateRev(ctx, "follow")
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			calls++
			seen, seenRev = string(data), rev
			return nil
		})
	}()
	state := func() (int, string, uint64) {
		mu.Lock()
		defer mu.Unlock()
		return calls, seen, seenRev
	}
	waitFor(t, "the first signal, with no document yet", func() bool { n, s, rev := state(); return n >= 1 && s == "" && rev == 0 })

	var last uint64
	for i := range 20 {
		rev, err := c.PutStateRev(t.Context(), "follow", fmt.Appendf(nil, `{"n":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		if rev <= last {
			t.Fatalf("revision %d after %d", rev, last)
		}
		last = rev
	}
	waitFor(t, "the last write", func() bool { _, s, rev := state(); return s == `{"n":19}` && rev == last })
	if n, _, _ := state(); n > 22 {
		t.Errorf("%d signals for 20 writes", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchState after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchState did not return after its context ended")
	}
}

// An error of changed ends the watch with that error; an absent key reads as revision 0.
func TestWatchStateReturnsChangedError(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	boom := errors.New("boom")
	err := c.WatchState(t.Context(), "nothing", func(context.Context) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("WatchState = %v, want boom", err)
	}
	if data, rev, err := c.GetStateRev(t.Context(), "nothing"); data != nil || rev != 0 || err != nil {
		t.Fatalf("GetStateRev of an absent key = %q, %d, %v", data, rev, err)
	}
}

// When the connection closes, the watch ends with an error rather than waiting for ever.
func TestWatchStateEndsWithConnection(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.WatchState(t.Context(), "follow", func(context.Context) error {
			select {
			case started <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	<-started
	c.NC.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("WatchState = nil after the connection closed, want an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchState did not return after the connection closed")
	}
}

// PutStateIf writes only over the revision it was given, inline or large, and leaves the
// stored document as it was when it refuses.
func TestPutStateIf(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	ctx := t.Context()
	rev, err := c.PutStateIf(ctx, "doc", []byte(`{"v":1}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutStateIf(ctx, "doc", []byte(`{"v":"lost"}`), 0); !errors.Is(err, events.ErrStateChanged) {
		t.Fatalf("create over an existing key: %v, want ErrStateChanged", err)
	}
	large := bytes.Repeat([]byte("x"), 600<<10)
	rev2, err := c.PutStateIf(ctx, "doc", large, rev)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range [][]byte{[]byte(`{"v":"stale"}`), bytes.Repeat([]byte("y"), 700<<10)} {
		if _, err := c.PutStateIf(ctx, "doc", doc, rev); !errors.Is(err, events.ErrStateChanged) {
			t.Fatalf("write of %d bytes over a stale revision: %v, want ErrStateChanged", len(doc), err)
		}
	}
	if data, got, err := c.GetStateRev(ctx, "doc"); err != nil || got != rev2 || !bytes.Equal(data, large) {
		t.Fatalf("after refused writes: %d bytes at revision %d (%v), want the large document at %d", len(data), got, err, rev2)
	}
	if rev3, err := c.PutStateIf(ctx, "doc", []byte(`{"v":3}`), rev2); err != nil || rev3 <= rev2 {
		t.Fatalf("write over the current revision: %d, %v", rev3, err)
	}
}
