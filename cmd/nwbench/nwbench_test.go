package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// TestBenchEndToEnd runs nwbench's whole run on a tiny corpus against the real daemon, so the
// tool keeps working as the daemon changes: every article stored exactly once, by the
// daemon's count and by a read of its article stream.
// runDaemonBench builds the daemon and runs nwbench on o's feeds with small items, one 2 s
// cycle per phase and verification, and fails the test unless the report checks out.
func runDaemonBench(t *testing.T, o options) report {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds and runs the daemon")
	}
	bin, err := buildDaemon(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o.ItemSize, o.Cycles, o.Interval = 2000, 1, 2*time.Second
	o.Timeout, o.Daemon, o.Dir, o.Verify = 10*time.Minute, bin, t.TempDir(), true
	rep, err := run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.print(&out)
	t.Log("\n" + out.String())
	if err := rep.check(); err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestBenchEndToEnd(t *testing.T) {
	rep := runDaemonBench(t, options{Feeds: 20, Items: 5, Hosts: 4, ParseSample: 20})
	if !rep.verified || rep.verifiedStored != int(rep.expected) || rep.storedTwice != 0 {
		t.Fatalf("stream holds %d articles (%d twice), want %d once each", rep.verifiedStored, rep.storedTwice, rep.expected)
	}
	if rep.coldItems != 100 || rep.expected < 100+20 {
		t.Errorf("cold items %d, published %d: want 100 cold and at least one new item per feed in the steady phase", rep.coldItems, rep.expected)
	}
	if c := rep.cycles[0].requests; c.notModified == 0 || c.ok != 0 {
		t.Errorf("304 phase answered %+v, want only 304s", c)
	}
	if c := rep.cycles[1]; c.requests.ok == 0 || c.requests.notModified != 0 || c.stored != 0 {
		t.Errorf("unchanged-200 phase answered %+v and stored %v articles, want only 200s and nothing new", c.requests, c.stored)
	}
	if rep.parse.gofeed <= 0 || rep.peakRSS <= 0 || rep.metricsBytes <= 0 || rep.coldWall <= 0 {
		t.Errorf("missing figures: %+v", rep)
	}
	// A hundred articles are far from the default memory limit: the gate never holds a poll.
	if rep.memoryWaits != 0 || rep.coldMemoryWaits != 0 {
		t.Errorf("%d polls held at the memory gate (%d in the cold ingest), want none", rep.memoryWaits, rep.coldMemoryWaits)
	}
}

// TestCorpusIsDeterministicAndParses checks that a version is the same bytes every time, that
// the next version has exactly one new item, and that items are about the asked size.
func TestCorpusIsDeterministicAndParses(t *testing.T) {
	c := corpus{items: 20, itemSize: 22_000}
	a, b := c.doc(7, 3), c.doc(7, 3)
	if !bytes.Equal(a, b) {
		t.Fatal("the same version of a feed differs between two renders")
	}
	if size := len(a) / c.items; size < 20_000 || size > 24_000 {
		t.Errorf("%d bytes per item, want about 22,000", size)
	}
	v3, err := gofeed.NewParser().Parse(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	v4, err := gofeed.NewParser().Parse(bytes.NewReader(c.doc(7, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if len(v3.Items) != 20 || len(v4.Items) != 20 {
		t.Fatalf("%d and %d items, want 20", len(v3.Items), len(v4.Items))
	}
	old := map[string]bool{}
	for _, it := range v3.Items {
		old[it.GUID] = true
		if it.Title == "" || it.Link == "" || len(it.Content) < 10_000 || it.Description == "" {
			t.Fatalf("thin item: %+v", it)
		}
	}
	var fresh int
	for _, it := range v4.Items {
		if !old[it.GUID] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("version 4 has %d items version 3 lacks, want 1", fresh)
	}
}

// TestBenchBesideHostileFeeds runs nwbench with one hostile feed of each shape beside normal
// ones: the normal feeds' articles and the hostile feeds' storable ones (the first
// parse.MaxItems of 100,000+ items, the three items of the 9 MB title, none of the HTML page)
// are all stored once, and the hostile hosts were asked.
func TestBenchBesideHostileFeeds(t *testing.T) {
	rep := runDaemonBench(t, options{Feeds: 10, Items: 3, Hosts: 2, ParseSample: 10, Hostile: hostileKinds})
	if want := 30 + hostileArticles(hostileKinds); rep.expected < want || rep.verifiedStored != int(rep.expected) || rep.storedTwice != 0 {
		t.Errorf("stream holds %d articles (%d twice), expected %d (at least %d)", rep.verifiedStored, rep.storedTwice, rep.expected, want)
	}
	if rep.hostileRequests < hostileKinds {
		t.Errorf("hostile hosts answered %d requests, want at least %d", rep.hostileRequests, hostileKinds)
	}
}

// TestHostileDocs checks the shapes: the many-items feed holds more than 100,000 items, the
// title feed a 9 MB title, and each is close to 10 MiB.
func TestHostileDocs(t *testing.T) {
	many, title, page := hostileDoc(0), hostileDoc(1), hostileDoc(2)
	if n := bytes.Count(many, []byte("<item>")); n < 100_000 {
		t.Errorf("many-items feed has %d items, want over 100,000", n)
	}
	if !bytes.Contains(title, bytes.Repeat([]byte("t"), 9<<20)) {
		t.Error("title feed has no 9 MB title")
	}
	for i, d := range [][]byte{many, title, page} {
		if len(d) < 9<<20 || len(d) > 10<<20 {
			t.Errorf("shape %d is %d bytes, want 9–10 MiB", i, len(d))
		}
	}
	if hostileArticles(4) != 2*10_000+3 {
		t.Errorf("hostileArticles(4) = %d", hostileArticles(4))
	}
}
