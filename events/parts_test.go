package events_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/newswatch/newswatch/events"
)

// parted is a PartedProjection of four parts; the n-th event rewrites part n%4. It records
// how many parts each save was given.
type parted struct {
	mu      sync.Mutex
	count   int
	parts   map[string][]byte
	changed map[string]uint64 // part → sequence of the event that last changed it
	applies int
	given   []int // parts given to each save
}

func newParted() *parted {
	return &parted{parts: map[string][]byte{}, changed: map[string]uint64{}}
}

func (p *parted) Name() string { return "parted" }

func (p *parted) Apply(_ []byte, seq uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := fmt.Sprintf("part-%d", p.count%4)
	p.count++
	p.applies++
	p.parts[name] = []byte(fmt.Sprintf("%s after %d events", name, p.count))
	p.changed[name] = seq
	return nil
}

func (p *parted) Snapshot() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return json.Marshal(p.parts)
}

func (p *parted) Restore(data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parts, p.changed, p.count = map[string][]byte{}, map[string]uint64{}, 0
	if data == nil {
		return nil
	}
	if err := json.Unmarshal(data, &p.parts); err != nil {
		return err
	}
	p.count = p.total()
	return nil
}

func (p *parted) SnapshotParts(since uint64) ([]string, map[string][]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := slices.Sorted(maps.Keys(p.parts))
	changed := map[string][]byte{}
	for _, name := range names {
		if since == 0 || p.changed[name] > since {
			changed[name] = p.parts[name]
		}
	}
	p.given = append(p.given, len(changed))
	return names, changed, nil
}

func (p *parted) RestoreParts(parts map[string][]byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parts, p.changed = maps.Clone(parts), map[string]uint64{}
	p.count = p.total()
	return nil
}

// total is the number of events the parts say were applied.
func (p *parted) total() int {
	n := 0
	for _, b := range p.parts {
		var name string
		var after int
		if _, err := fmt.Sscanf(string(b), "%s after %d events", &name, &after); err == nil {
			n = max(n, after)
		}
	}
	return n
}

func (p *parted) state() (count, applies int, parts map[string][]byte, given []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count, p.applies, maps.Clone(p.parts), slices.Clone(p.given)
}

// runParted runs a projector for proj that saves while save says true.
func runParted(t *testing.T, c *events.Conn, proj events.Projection, save *atomic.Bool) (p *events.Projector, stop func()) {
	t.Helper()
	return runProjectorWith(t, c, proj, quietLog(), func(p *events.Projector) { p.SaveOnlyIf(save.Load) })
}

func partObjects(t *testing.T, c *events.Conn) []string {
	t.Helper()
	var out []string
	for _, name := range objectsOf(t, c, "parted") {
		if strings.HasPrefix(name, "parted/p/") {
			out = append(out, strings.TrimPrefix(name, "parted/p/"))
		}
	}
	slices.Sort(out)
	return out
}

// A parted projection is saved as a manifest under its key and an object per part; a save
// after one event writes only the part it changed (into the part's other slot, the old one
// deleted once the manifest names the new), and a restart restores every part.
func TestPartedSnapshotWritesChangedParts(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	yes := &atomic.Bool{}
	yes.Store(true)
	first := newParted()
	p, stop := runParted(t, c, first, yes)
	last := publishPolls(t, c, 8)
	waitFor(t, "events applied", func() bool { return p.Applied() == last })
	stop()
	if got := partObjects(t, c); !slices.Equal(got, []string{"part-0/a", "part-1/a", "part-2/a", "part-3/a"}) {
		t.Fatalf("objects after the first save: %v", got)
	}
	if v := string(kvValue(t, c, "parted")); !strings.HasPrefix(v, `{"parted":{"seq":`+fmt.Sprint(last)) {
		t.Fatalf("the key holds %.200s, not a manifest at %d", v, last)
	}
	_, _, want, _ := first.state()
	c.Close()

	c = connect(t, dir)
	defer c.Close()
	second := newParted()
	p, stop = runParted(t, c, second, yes)
	waitFor(t, "projection caught up", p.CaughtUp)
	count, applies, parts, _ := second.state()
	if count != 8 || applies != 0 || !maps.EqualFunc(parts, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("restored %d events with %d re-applied, parts %q; want 8, 0, %q", count, applies, parts, want)
	}
	last = publishPolls(t, c, 1) // the ninth event rewrites part-0
	waitFor(t, "event applied", func() bool { return p.Applied() == last })
	stop()
	_, _, _, given := second.state()
	if len(given) == 0 || given[len(given)-1] != 1 {
		t.Errorf("parts given to the saves after one event: %v, want 1 at the last", given)
	}
	if got := partObjects(t, c); !slices.Equal(got, []string{"part-0/b", "part-1/a", "part-2/a", "part-3/a"}) {
		t.Errorf("objects after a save of one part: %v", got)
	}

	third := newParted()
	p, stop = runParted(t, c, third, yes)
	waitFor(t, "projection caught up", p.CaughtUp)
	stop()
	if count, applies, parts, _ := third.state(); count != 9 || applies != 0 || string(parts["part-0"]) != "part-0 after 9 events" {
		t.Errorf("restored %d events with %d re-applied, part-0 %q", count, applies, parts["part-0"])
	}
}

// A part whose object is gone makes the snapshot unreadable: the projection is rebuilt from
// the stream, never restored with a part missing.
func TestPartedSnapshotLostPartRebuilds(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	yes := &atomic.Bool{}
	yes.Store(true)
	p, stop := runParted(t, c, newParted(), yes)
	last := publishPolls(t, c, 6)
	waitFor(t, "events applied", func() bool { return p.Applied() == last })
	stop()
	if err := objectStore(t, c).Delete(t.Context(), "parted/p/part-1/a"); err != nil {
		t.Fatal(err)
	}
	again := newParted()
	p, _ = runParted(t, c, again, yes)
	waitFor(t, "projection caught up", p.CaughtUp)
	if count, applies, _, _ := again.state(); count != 6 || applies != 6 {
		t.Fatalf("after losing a part: %d events with %d applied; want all 6 applied again", count, applies)
	}
}

// In cluster mode one instance saves at a time. An instance that takes over after another
// saved meanwhile holds an old manifest: its first save writes every part, never only those
// changed since the manifest it knew (whose slots the other instance has reused).
func TestPartedSnapshotAfterAnotherInstanceSaved(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	yes, no := &atomic.Bool{}, &atomic.Bool{}
	yes.Store(true)
	p, stop := runParted(t, c, newParted(), yes)
	last := publishPolls(t, c, 4)
	waitFor(t, "events applied", func() bool { return p.Applied() == last })
	stop()

	// a restores that manifest and does not save; b does, twice.
	a := newParted()
	pa, _ := runParted(t, c, a, no)
	b := newParted()
	pb, stopB := runParted(t, c, b, yes)
	for range 2 { // parts 0 and 1
		last = publishPolls(t, c, 1)
		waitFor(t, "event applied and saved", func() bool {
			_, _, _, given := b.state()
			return pa.Applied() == last && pb.Applied() == last && len(given) > 0
		})
	}
	stopB()

	// a takes over: the parts it changed since the manifest it restored are 0, 1 and 2.
	no.Store(true)
	last = publishPolls(t, c, 1)
	waitFor(t, "a saved", func() bool {
		_, _, _, given := a.state()
		return pa.Applied() == last && len(given) > 0
	})
	if _, _, _, given := a.state(); given[0] != 4 {
		t.Errorf("a's first save was given %d parts, want all 4", given[0])
	}
	_, _, want, _ := a.state()
	fresh := newParted()
	pf, _ := runParted(t, c, fresh, no)
	waitFor(t, "projection caught up", pf.CaughtUp)
	if count, _, parts, _ := fresh.state(); count != 7 || !maps.EqualFunc(parts, want, func(x, y []byte) bool { return string(x) == string(y) }) {
		t.Errorf("restored after the takeover: %d events, parts %q; want 7, %q", count, parts, want)
	}
}

// BenchmarkPartedSave measures a save in parts through the embedded server: a state of 33
// parts of 240 KiB (8 MB, the size of a busy topic's stories in BenchmarkSnapshotParts, which
// writes one such part and the meta part after one event), one part changed per save.
func BenchmarkPartedSave(b *testing.B) {
	c := connect(b, b.TempDir())
	defer c.Close()
	p := newParted()
	pad := strings.Repeat("x", 240<<10)
	for i := range 33 {
		name := fmt.Sprintf("part-%02d", i)
		p.parts[name], p.changed[name] = []byte(name+pad), 1
	}
	save, _ := events.PartedSaver(c, p)
	if err := save(1); err != nil {
		b.Fatal(err)
	}
	seq := uint64(1)
	for b.Loop() {
		seq++
		name := fmt.Sprintf("part-%02d", seq%33)
		p.parts[name], p.changed[name] = []byte(fmt.Sprint(seq)+pad), seq
		if err := save(seq); err != nil {
			b.Fatal(err)
		}
	}
}

// A save in parts reads its key once, for the manifest it replaces and the object that
// manifest may be stored in, and the saved manifest restores.
func TestPartedSaveReadsKeyOnce(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	p := newParted()
	for i := range 3 {
		name := fmt.Sprintf("part-%d", i)
		p.parts[name], p.changed[name] = []byte(name), 1
	}
	save, reads := events.PartedSaver(c, p)
	for seq := uint64(1); seq <= 3; seq++ {
		p.parts["part-0"], p.changed["part-0"] = []byte(fmt.Sprint("part-0 at ", seq)), seq
		if err := save(seq); err != nil {
			t.Fatal(err)
		}
		if got := reads(); got != int64(seq) {
			t.Fatalf("%d reads of the key after %d saves, want one a save", got, seq)
		}
	}
	restored := newParted()
	r, stop := runParted(t, c, restored, &atomic.Bool{})
	waitFor(t, "projection caught up", r.CaughtUp)
	stop()
	if _, _, parts, _ := restored.state(); string(parts["part-0"]) != "part-0 at 3" || len(parts) != 3 {
		t.Errorf("restored parts %q", parts)
	}
}
