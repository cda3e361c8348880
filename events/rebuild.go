package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Range bounds a replay: stream sequences or times, both inclusive; zero values are open.
type Range struct {
	FromSeq, ToSeq   uint64
	FromTime, ToTime time.Time
}

// ParseBound reads a --from/--to value: a stream sequence number or an RFC 3339 time.
func ParseBound(s string) (seq uint64, t time.Time, err error) {
	if s == "" {
		return 0, time.Time{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return 0, t, nil
	}
	return 0, time.Time{}, fmt.Errorf("%q is neither a stream sequence nor an RFC 3339 time", s)
}

// ReplayStats says what a replay did.
type ReplayStats struct {
	Read, Applied, Skipped uint64
	// Last is the sequence of the last event read.
	Last    uint64
	Elapsed time.Duration
}

// Progress is told how many events were read of how many there are to read.
type Progress func(read, total uint64)

// Event is one stored event as a replay delivers it.
type Event struct {
	Data    []byte
	Subject string
	Seq     uint64
	Stored  time.Time
	// SourceSeq is the input sequence a derived event names (HeaderSourceSeq), else 0.
	SourceSeq uint64
}

// Replay feeds fn the events of stream on subjects within r, up to the stream's head when it
// starts, through an ordered consumer. fn returns false for an event it skipped.
func (c *Conn) Replay(ctx context.Context, stream string, subjects []string, r Range, progress Progress,
	fn func(Event) (bool, error)) (ReplayStats, error) {
	start := time.Now()
	var st ReplayStats
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy}
	switch {
	case r.FromSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, r.FromSeq
	case !r.FromTime.IsZero():
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &r.FromTime
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	cons, err := c.JS.OrderedConsumer(cctx, stream, cfg)
	cancel()
	if err != nil {
		return st, fmt.Errorf("replay %s: %w", stream, err)
	}
	total := uint64(0)
	if info := cons.CachedInfo(); info != nil {
		total = info.NumPending
	}
	if total == 0 {
		return st, nil
	}
	it, err := cons.Messages()
	if err != nil {
		return st, fmt.Errorf("replay %s: %w", stream, err)
	}
	defer it.Stop()
	for {
		nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := it.Next(jetstream.NextContext(nctx))
		cancel()
		if err != nil {
			return st, fmt.Errorf("replay %s: %w", stream, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return st, err
		}
		seq := meta.Sequence.Stream
		if (r.ToSeq > 0 && seq > r.ToSeq) || (!r.ToTime.IsZero() && meta.Timestamp.After(r.ToTime)) {
			break
		}
		st.Read++
		st.Last = seq
		src, _ := strconv.ParseUint(msg.Headers().Get(HeaderSourceSeq), 10, 64)
		applied, err := fn(Event{Data: msg.Data(), Subject: msg.Subject(), Seq: seq, Stored: meta.Timestamp, SourceSeq: src})
		if err != nil {
			return st, err
		}
		if applied {
			st.Applied++
		} else {
			st.Skipped++
		}
		if progress != nil && (st.Read%1024 == 0 || meta.NumPending == 0) {
			progress(st.Read, total)
		}
		if meta.NumPending == 0 {
			break
		}
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// Rebuild folds a fresh projection from the events of stream on subjects within r, and stores
// it as the projection's next version; the daemon's projector switches to it in one step (at
// once if it is running, else at its next start). Until then readers see the live version, and
// an interrupted rebuild leaves it untouched.
func (c *Conn) Rebuild(ctx context.Context, proj Projection, stream string, subjects []string, r Range, progress Progress) (ReplayStats, error) {
	if err := proj.Restore(nil); err != nil {
		return ReplayStats{}, err
	}
	st, err := c.Replay(ctx, stream, subjects, r, progress, func(e Event) (bool, error) {
		return proj.Apply(e.Data, e.Seq) == nil, nil
	})
	if err != nil {
		return st, err
	}
	if ctx.Err() != nil {
		return st, ctx.Err()
	}
	state, err := proj.Snapshot()
	if err != nil {
		return st, err
	}
	last := st.Last
	if last == 0 && r.ToSeq == 0 {
		// Nothing matched the filter: adopt at the stream's head so the daemon does not re-read.
		if info, err := c.StreamInfo(ctx, stream); err == nil {
			last = info.LastSeq
		}
	}
	b, err := json.Marshal(snapshot{Seq: last, Version: "rebuild-" + strconv.FormatInt(time.Now().UnixNano(), 36), Saved: time.Now().UTC(), State: state})
	if err != nil {
		return st, err
	}
	kv, err := c.bucket(ctx)
	if err != nil {
		return st, err
	}
	if err := c.putLarge(ctx, kv, NextKey(proj.Name()), b); err != nil {
		return st, fmt.Errorf("store rebuilt %s: %w", proj.Name(), err)
	}
	return st, nil
}
