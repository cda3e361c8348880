package events

import (
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// recentLimit bounds the bytes the recent-writes log keeps: each message's data and subject,
// and recentOverhead for its entry (an id marker has no data).
const (
	recentLimit    = 16 << 20
	recentOverhead = 64
)

func recentCost(subject string, data []byte) int64 {
	return int64(len(subject) + len(data) + recentOverhead)
}

// recentWrites holds the messages this process appended to the article stream last, with
// their stream sequences, so that a processor following the stream (the matcher) takes them
// from memory instead of reading them back. A reader that touches a block of the stream within
// ten seconds of its write makes the embedded server keep the block's 8 MiB cache for ten
// seconds more; reading every article as it is written kept ten seconds of the stream in
// memory, up to 220 MB at a fast ingest (docs/benchmarks.md, "Measured: the memory gate").
// Only whole atomic batches whose acknowledgement gave their sequences are recorded: the
// server commits a batch's messages at consecutive sequences. Anything else (another writer,
// an old or evicted entry) is read from the stream as before. The log keeps only what a
// reader still needs: with no reader it records nothing, and an entry every reader has done
// goes at once, so a reader that keeps up holds the log near empty. Safe for concurrent use.
type recentWrites struct {
	mu      sync.Mutex
	entries []recentMsg // ascending sequences; runs of consecutive ones with gaps between
	head    int         // entries before head are evicted
	bytes   int64
	limit   int64
	wake    chan struct{} // closed and replaced by each add
	// readers are the last sequences done by the processors that take events from the log.
	readers map[*atomic.Uint64]struct{}
}

// recentMsg is one message of the log.
type recentMsg struct {
	seq     uint64
	subject string
	data    []byte
}

func newRecentWrites(limit int64) *recentWrites {
	return &recentWrites{limit: limit, wake: make(chan struct{}), readers: map[*atomic.Uint64]struct{}{}}
}

// join registers a reader whose last sequence done is done; the log keeps what it has not
// done until leave is called.
func (r *recentWrites) join(done *atomic.Uint64) (leave func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readers[done] = struct{}{}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.readers, done)
		r.dropDone()
	}
}

// release drops the entries every reader has done; a reader calls it after it moved on.
func (r *recentWrites) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropDone()
}

// dropDone evicts the entries at or below every reader's last sequence done: all of them when
// there is no reader. r.mu must be held.
func (r *recentWrites) dropDone() {
	low := uint64(math.MaxUint64)
	for done := range r.readers {
		low = min(low, done.Load())
	}
	for r.head < len(r.entries) && r.entries[r.head].seq <= low {
		r.evictHead()
	}
	r.compact()
}

// evictHead drops the oldest entry. r.mu must be held.
func (r *recentWrites) evictHead() {
	r.bytes -= recentCost(r.entries[r.head].subject, r.entries[r.head].data)
	r.entries[r.head] = recentMsg{}
	r.head++
}

// compact moves the live entries to the front once half the slice is evicted, and lets an
// emptied large slice go. r.mu must be held.
func (r *recentWrites) compact() {
	switch {
	case r.head == len(r.entries) && cap(r.entries) > recentKeepCap:
		r.entries, r.head = nil, 0
	case r.head > len(r.entries)/2:
		r.entries = append(r.entries[:0], r.entries[r.head:]...)
		r.head = 0
	}
}

// recentKeepCap is the most entries an empty log keeps room for: at the limit a log of id
// markers (no data) is a quarter of a million entries, 12 MB of slice, not worth keeping idle.
const recentKeepCap = 4096

// add records a committed atomic batch: msgs at first, first+1, ...
func (r *recentWrites) add(first uint64, msgs []*nats.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.readers) == 0 {
		return // nobody would take them
	}
	if n := len(r.entries); n > r.head && r.entries[n-1].seq >= first {
		// Sequences went back (a purged or recreated stream): start over.
		r.entries, r.head, r.bytes = r.entries[:0], 0, 0
	}
	for i, m := range msgs {
		r.entries = append(r.entries, recentMsg{seq: first + uint64(i), subject: m.Subject, data: m.Data})
		r.bytes += recentCost(m.Subject, m.Data)
	}
	for r.bytes > r.limit && r.head < len(r.entries) {
		r.evictHead()
	}
	r.compact()
	close(r.wake)
	r.wake = make(chan struct{})
}

// changed returns a channel closed by the next add.
func (r *recentWrites) changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wake
}

// from appends to buf the messages at seq and after it whose sequences follow on without a
// gap, at most max; none when the log does not hold seq.
func (r *recentWrites) from(seq uint64, buf []recentMsg, max int) []recentMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	live := r.entries[r.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].seq >= seq })
	for ; i < len(live) && live[i].seq == seq && len(buf) < max; i++ {
		buf = append(buf, live[i])
		seq++
	}
	return buf
}

// has reports whether the log holds seq.
func (r *recentWrites) has(seq uint64) bool { return len(r.from(seq, nil, 1)) == 1 }

// last returns the newest sequence the log holds, 0 when empty.
func (r *recentWrites) last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) == r.head {
		return 0
	}
	return r.entries[len(r.entries)-1].seq
}

// subjectIn reports whether subject matches one of the filters (NATS wildcards: "*" one
// token, ">" the rest).
func subjectIn(subject string, filters []string) bool {
	for _, f := range filters {
		if subjectMatches(subject, f) {
			return true
		}
	}
	return false
}

func subjectMatches(subject, filter string) bool {
	for {
		ft, frest, fmore := strings.Cut(filter, ".")
		if ft == ">" {
			return subject != ""
		}
		st, srest, smore := strings.Cut(subject, ".")
		if st == "" || (ft != "*" && ft != st) {
			return false
		}
		if !fmore || !smore {
			return fmore == smore
		}
		subject, filter = srest, frest
	}
}
