package stories

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// corpus generates match events of one busy topic: words drawn from a Zipf distribution
// over a large vocabulary (a few words in most reports, most words rare), and every fourth
// article a copy of a recent one with a changed last sentence. The topic's query is three of
// the most common words and a prefix of a fourth: each event carries those it has as its
// matched terms, as the matcher writes them.
type corpus struct {
	rng    *rand.Rand
	zipf   *rand.Zipf
	vocab  []string
	recent []events.Match
	n      int
	t0     time.Time
	step   time.Duration
	// headlines: titles alone, and every other article that is not a copy rewrites a recent
	// one (half its title's words kept), so that stories gather many reports.
	headlines bool
}

func newCorpus(seed uint64, step time.Duration) *corpus {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := &corpus{rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, 49_999), t0: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), step: step}
	for i := range 50_000 {
		c.vocab = append(c.vocab, fmt.Sprintf("w%dx", i))
	}
	return c
}

func (c *corpus) words(k int) string {
	var b strings.Builder
	for range k {
		b.WriteString(c.vocab[c.zipf.Uint64()])
		b.WriteByte(' ')
	}
	return b.String()
}

func (c *corpus) next(tb testing.TB) []byte {
	c.n++
	at := c.t0.Add(time.Duration(c.n) * c.step)
	m := events.Match{
		Topic: "busy", QueryVersion: "v1", ArticleID: fmt.Sprintf("%032x", c.n),
		Source: fmt.Sprintf("feed-%d", c.rng.IntN(50)), PublishedAt: at, FirstSeenAt: at, MatchedAt: at,
	}
	if c.n%4 == 0 && len(c.recent) > 0 {
		orig := c.recent[c.rng.IntN(len(c.recent))]
		m.Title, m.Summary = orig.Title, orig.Summary+" "+c.words(6)
		if c.headlines {
			m.Summary = ""
		}
	} else if c.headlines {
		m.Title = c.words(10)
		if len(c.recent) > 0 && c.rng.IntN(2) == 0 {
			kept := strings.Fields(c.recent[c.rng.IntN(len(c.recent))].Title)[:5]
			m.Title = strings.Join(kept, " ") + " " + c.words(5)
		}
		if len(c.recent) < 64 {
			c.recent = append(c.recent, m)
		} else {
			c.recent[c.rng.IntN(len(c.recent))] = m
		}
	} else {
		m.Title, m.Summary = c.words(10), c.words(35)
		if len(c.recent) < 64 {
			c.recent = append(c.recent, m)
		} else {
			c.recent[c.rng.IntN(len(c.recent))] = m
		}
	}
	m.URL = "https://" + m.Source + ".example/" + m.ArticleID
	text := " " + m.Title + " " + m.Summary
	for i, w := range c.vocab[:4] {
		if strings.Contains(text, " "+w+" ") {
			term := w
			if i == 3 {
				term += "*"
			}
			m.Matched = append(m.Matched, events.MatchedTerm{Term: term, Field: "title"})
		}
	}
	out, err := events.MatchMessage(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out.Data
}

// BenchmarkApply measures folding match events into one topic that holds over 10,000 live
// stories: events arrive 12 s apart in event time, so the 48 h window holds 14,400 articles,
// three quarters of which found a story. The benchmark starts with the window full.
func BenchmarkApply(b *testing.B) { benchmarkApply(b, newCorpus(1, 12*time.Second)) }

// BenchmarkApplyHeadlines is BenchmarkApply with headlines alone, which are compared with
// the stories' centroids, and half of them rewrites of recent ones, so that stories gather
// many reports (and centroids many terms).
func BenchmarkApplyHeadlines(b *testing.B) {
	c := newCorpus(1, 12*time.Second)
	c.headlines = true
	benchmarkApply(b, c)
}

func benchmarkApply(b *testing.B, c *corpus) {
	p := New()
	const warm = 14_400
	for i := range warm {
		if err := p.Apply(c.next(b), uint64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
	live := len(p.topics["busy"].index.live)
	batch := make([][]byte, 4096)
	next := len(batch)
	seq := uint64(warm)
	b.ReportAllocs()
	n := 0
	// CPU time spent applying, without generating the events: on a shared machine, wall
	// time measures the other processes as much as this one.
	var cpu time.Duration
	mark := processCPU()
	for b.Loop() {
		if next == len(batch) {
			// Encoding events is not what is measured.
			b.StopTimer()
			cpu += processCPU() - mark
			for i := range batch {
				batch[i] = c.next(b)
			}
			next = 0
			mark = processCPU()
			b.StartTimer()
		}
		seq++
		if err := p.Apply(batch[next], seq); err != nil {
			b.Fatal(err)
		}
		next++
		n++
	}
	cpu += processCPU() - mark
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu_µs/event")
	b.ReportMetric(float64(live), "live_stories")
	if snap, err := p.Snapshot(); err == nil {
		// What a save writes: over 512 KiB, to the snapshot object store (events/large.go).
		b.ReportMetric(float64(len(snap)), "snapshot_bytes")
	}
}

// BenchmarkSnapshot measures a save of one busy topic: the window full as in BenchmarkApply
// (over 10,000 live stories, 14,400 articles in 48 h, and the stories of the week before kept
// for listing), encoded as the projector writes it.
func BenchmarkSnapshot(b *testing.B) {
	c := newCorpus(1, 12*time.Second)
	p := New()
	const n = 14_400 * 4 // two days in the window, six more retained for listing
	for i := range n {
		if err := p.Apply(c.next(b), uint64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
	var size int
	for b.Loop() {
		snap, err := p.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		size = len(snap)
	}
	b.ReportMetric(float64(size), "snapshot_bytes")
	b.ReportMetric(float64(len(p.topics["busy"].stories)), "stories")
}

// BenchmarkSnapshotParts measures a save in parts of the busy topic of BenchmarkSnapshot
// after one more event, which is what the projector does at most once a second while live:
// the parts that changed since the last save (the meta part and the part of the story the
// event joined or founded), encoded.
func BenchmarkSnapshotParts(b *testing.B) {
	c := newCorpus(1, 12*time.Second)
	p := New()
	const n = 14_400 * 4
	for i := range n {
		if err := p.Apply(c.next(b), uint64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
	seq := uint64(n)
	names, all, err := p.SnapshotParts(0)
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, part := range all {
		total += len(part)
	}
	events := make([][]byte, 0, 1024)
	written, parts := 0, 0
	for b.Loop() {
		if len(events) == 0 {
			b.StopTimer()
			for range cap(events) {
				events = append(events, c.next(b))
			}
			b.StartTimer()
		}
		seq++
		if err := p.Apply(events[0], seq); err != nil {
			b.Fatal(err)
		}
		events = events[1:]
		_, changed, err := p.SnapshotParts(seq - 1)
		if err != nil {
			b.Fatal(err)
		}
		for _, part := range changed {
			written += len(part)
		}
		parts += len(changed)
	}
	b.ReportMetric(float64(written)/float64(b.N), "bytes_written/save")
	b.ReportMetric(float64(parts)/float64(b.N), "parts_written/save")
	b.ReportMetric(float64(len(names)), "parts")
	b.ReportMetric(float64(total), "snapshot_bytes")
}

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
