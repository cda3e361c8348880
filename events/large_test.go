package events_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/events"
)

// saveBulky runs a projector over n new events with a snapshot of about 12 MiB, more than the
// embedded server's 8 MiB max_payload, and stops it, which saves.
func saveBulky(t *testing.T, c *events.Conn, n int) (last uint64, saved *bulky) {
	t.Helper()
	last = publishPolls(t, c, n)
	saved = newBulky(9<<20, 1)
	p, stop := runProjector(t, c, saved, quietLog())
	waitFor(t, "events applied", func() bool { return p.Applied() == last })
	start := time.Now()
	stop()
	t.Logf("stopping with a final 12 MiB save took %v", time.Since(start))
	return last, saved
}

func TestLargeSnapshotSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	_, saved := saveBulky(t, c, 5)
	object := pointedObject(t, c, "bulky")
	c.Close()

	c = connect(t, dir)
	defer c.Close()
	restored := newBulky(16, 2)
	start := time.Now()
	p, stop := runProjector(t, c, restored, quietLog())
	waitFor(t, "projection caught up", p.CaughtUp)
	t.Logf("restoring 12 MiB took %v", time.Since(start))
	count, applies, pad := restored.state()
	_, _, want := saved.state()
	if count != 5 || applies != 0 || pad != want {
		t.Fatalf("after restart: count %d, %d events re-applied, pad restored %v; want 5, 0, true", count, applies, pad == want)
	}

	// Saving again replaces the object rather than adding one.
	last := publishPolls(t, c, 1)
	waitFor(t, "event applied", func() bool { return p.Applied() == last })
	stop()
	if names := objectsOf(t, c, "bulky"); len(names) != 1 || names[0] == object || names[0] != pointedObject(t, c, "bulky") {
		t.Fatalf("objects after the second save: %v (first save wrote %s)", names, object)
	}
}

func TestOldInlineSnapshotRestores(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	last := publishPolls(t, c, 3)
	kv, err := c.JS.KeyValue(t.Context(), events.ProjectionBucket)
	if err != nil {
		t.Fatal(err)
	}
	// The format every snapshot had before objects, as existing data directories hold it.
	old := `{"seq":` + jsonString(t, last) + `,"saved":"2026-11-25T12:00:00Z","state":{"count":3,"pad":"AAEC"}}`
	if _, err := kv.PutString(t.Context(), "bulky", old); err != nil {
		t.Fatal(err)
	}
	b := newBulky(16, 2)
	p, _ := runProjector(t, c, b, quietLog())
	waitFor(t, "projection caught up", p.CaughtUp)
	count, applies, pad := b.state()
	if count != 3 || applies != 0 || pad != sha256.Sum256([]byte{0, 1, 2}) {
		t.Fatalf("restored count %d with %d events re-applied; want 3 and 0", count, applies)
	}
}

func jsonString(t *testing.T, v any) string { return string(mustMarshal(t, v)) }

// damages are the ways an object can be lost behind its pointer.
var damages = []struct {
	name   string
	damage func(t *testing.T, obs jetstream.ObjectStore, object string)
}{
	{"deleted", func(t *testing.T, obs jetstream.ObjectStore, object string) {
		if err := obs.Delete(t.Context(), object); err != nil {
			t.Fatal(err)
		}
	}},
	{"one byte changed", func(t *testing.T, obs jetstream.ObjectStore, object string) {
		// Without a deadline of its own a call gets nats.go's 5 s default, which a 12 MiB
		// object does not always make under -race on a busy machine.
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		data, err := obs.GetBytes(ctx, object)
		if err != nil {
			t.Fatal(err)
		}
		// A base64 letter for another inside a snapshot's pad: the snapshot still decodes,
		// only the digest tells.
		i := len(data) / 2
		data[i] = map[bool]byte{true: 'B', false: 'A'}[data[i] == 'A']
		if _, err := obs.PutBytes(ctx, object, data); err != nil {
			t.Fatal(err)
		}
	}},
}

func TestLostSnapshotObjectRebuilds(t *testing.T) {
	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := connect(t, dir)
			_, _ = saveBulky(t, c, 4)
			tc.damage(t, objectStore(t, c), pointedObject(t, c, "bulky"))
			c.Close()

			c = connect(t, dir)
			defer c.Close()
			var logs syncBuffer
			b := newBulky(16, 2)
			p, _ := runProjector(t, c, b, slog.New(slog.NewTextHandler(&logs, nil)))
			waitFor(t, "projection caught up", p.CaughtUp)
			if count, applies, _ := b.state(); count != 4 || applies != 4 {
				t.Fatalf("count %d from %d applied events; want 4 from a rebuild of 4", count, applies)
			}
			if !strings.Contains(logs.String(), "projection snapshot unreadable; rebuilding from the start") {
				t.Fatalf("no warning logged:\n%s", logs.String())
			}
		})
	}
}

func TestRebuiltLargeSnapshotIsAdopted(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	last := publishPolls(t, c, 3)
	live := newBulky(16, 1)
	p, stop := runProjector(t, c, live, quietLog())
	waitFor(t, "events applied", func() bool { return p.Applied() == last })

	rebuilt := newBulky(9<<20, 2)
	if _, err := c.Rebuild(t.Context(), rebuilt, events.PollStream, []string{bulkySubject}, events.Range{}, nil); err != nil {
		t.Fatal(err)
	}
	pointedObject(t, c, events.NextKey("bulky"))
	waitFor(t, "rebuilt version adopted", func() bool { return p.Version() != "" })
	count, _, pad := live.state()
	_, _, want := rebuilt.state()
	if count != 3 || pad != want {
		t.Fatalf("after adoption: count %d, pad of the rebuild %v; want 3, true", count, pad == want)
	}
	version := p.Version()
	stop()
	c.Close()

	// The live key has its own copy, and the waiting version's object is still whole.
	c = connect(t, dir)
	defer c.Close()
	if live, next := pointedObject(t, c, "bulky"), pointedObject(t, c, events.NextKey("bulky")); live == next {
		t.Fatalf("live and next point at the same object %s", live)
	}
	again := newBulky(16, 3)
	p, _ = runProjector(t, c, again, quietLog())
	waitFor(t, "projection caught up", p.CaughtUp)
	if _, applies, pad := again.state(); applies != 0 || pad != want || p.Version() != version {
		t.Fatalf("after restart: %d events re-applied, pad of the rebuild %v, version %q; want 0, true, %q",
			applies, pad == want, p.Version(), version)
	}
	if names := objectsOf(t, c, events.NextKey("bulky")); len(names) != 1 {
		t.Fatalf("objects of the next version: %v", names)
	}
}

func TestLargeStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	doc := make([]byte, 10<<20)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(doc)
	if err := c.PutState(t.Context(), "spikes", doc); err != nil {
		t.Fatal(err)
	}
	pointedObject(t, c, "state.spikes")
	c.Close()

	c = connect(t, dir)
	defer c.Close()
	got, err := c.GetState(t.Context(), "spikes")
	if err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("GetState: %d bytes, equal %v, error %v", len(got), bytes.Equal(got, doc), err)
	}
	// A document that shrinks is stored inline again, and its object goes.
	if err := c.PutState(t.Context(), "spikes", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetState(t.Context(), "spikes"); err != nil || string(got) != "{}" {
		t.Fatalf("GetState after shrinking = %q, %v", got, err)
	}
	if names := objectsOf(t, c, "state.spikes"); len(names) != 0 {
		t.Fatalf("objects left after shrinking: %v", names)
	}
}

func TestLargeStateKeepsOneObject(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before leaves the bucket as a save, or a save that crashed, could have.
		before func(t *testing.T, c *events.Conn)
	}{
		{"after a save", func(t *testing.T, c *events.Conn) {
			if err := c.PutState(t.Context(), "big", bytes.Repeat([]byte("a"), 1<<20)); err != nil {
				t.Fatal(err)
			}
		}},
		{"after a save that crashed before deleting", func(t *testing.T, c *events.Conn) {
			if err := c.PutState(t.Context(), "big", bytes.Repeat([]byte("a"), 1<<20)); err != nil {
				t.Fatal(err)
			}
			current := pointedObject(t, c, "state.big")
			for _, name := range []string{"state.big/a", "state.big/b"} {
				if name != current {
					if _, err := objectStore(t, c).PutBytes(t.Context(), name, []byte("orphan")); err != nil {
						t.Fatal(err)
					}
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, t.TempDir())
			defer c.Close()
			tc.before(t, c)
			if n := len(objectsOf(t, c, "state.big")); n == 0 {
				t.Fatal("the first save stored no object")
			}
			doc := bytes.Repeat([]byte("b"), 2<<20)
			if err := c.PutState(t.Context(), "big", doc); err != nil {
				t.Fatal(err)
			}
			names := objectsOf(t, c, "state.big")
			if len(names) != 1 || names[0] != pointedObject(t, c, "state.big") {
				t.Fatalf("objects after the second save: %v", names)
			}
			if got, err := c.GetState(t.Context(), "big"); err != nil || !bytes.Equal(got, doc) {
				t.Fatalf("GetState: %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestSmallStateLooksLikeAPointer(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	for _, doc := range []string{
		"{",
		`{"object":"elsewhere/a","size":3,"sha256":"00"}`,
		`{"object":"state.other/a"}`,
	} {
		if err := c.PutState(t.Context(), "doc", []byte(doc)); err != nil {
			t.Fatal(err)
		}
		if got, err := c.GetState(t.Context(), "doc"); err != nil || string(got) != doc {
			t.Errorf("GetState of %s = %q, %v", doc, got, err)
		}
		if string(kvValue(t, c, "state.doc")) != doc {
			t.Errorf("%s not stored as is", doc)
		}
	}
}

func TestLostStateObjectReadsAsAbsent(t *testing.T) {
	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			c, err := events.Connect(t.Context(), events.ConnConfig{DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.EnsureStreams(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := c.PutState(t.Context(), "spikes", bytes.Repeat([]byte("x"), 1<<20)); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, objectStore(t, c), pointedObject(t, c, "state.spikes"))
			// Absent, so the spike detector learns its baselines again instead of failing at
			// every start.
			if got, err := c.GetState(t.Context(), "spikes"); got != nil || err != nil {
				t.Fatalf("GetState = %d bytes, %v; want nil, nil", len(got), err)
			}
			if !strings.Contains(logs.String(), "state document lost") {
				t.Fatalf("no warning logged:\n%s", logs.String())
			}
		})
	}
}

// Saving over and over must not grow the bucket: not by objects, not by the markers the object
// store keeps for deleted names.
func TestObjectBucketDoesNotGrow(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	size := func() uint64 {
		st, err := objectStore(t, c).Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	var after3 uint64
	for i := range 20 {
		if err := c.PutState(t.Context(), "spikes", bytes.Repeat([]byte{byte('a' + i)}, 1<<20)); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			after3 = size()
		}
	}
	if after20 := size(); after20 > after3+512 {
		t.Fatalf("bucket grew from %d to %d bytes between the 3rd and the 20th save", after3, after20)
	}
}
