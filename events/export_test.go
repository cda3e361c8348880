package events

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SetStallAfter changes how long a consumer may stay quiet with undelivered events, for a test.
func SetStallAfter(d time.Duration) (restore func()) {
	old := stallAfter
	stallAfter = d
	return func() { stallAfter = old }
}

// PartedSaver saves proj in parts as its projector does, each save after the one before.
// reads counts the reads of a key of the bucket by the saves.
func PartedSaver(c *Conn, proj PartedProjection) (save func(seq uint64) error, reads func() int64) {
	var prev *manifest
	var since uint64
	var gets atomic.Int64
	save = func(seq uint64) error {
		ctx := context.Background()
		kv, err := c.bucket(ctx)
		if err != nil {
			return err
		}
		m, err := c.saveParts(ctx, countingKV{kv, &gets}, proj.Name(), proj, prev, seq, since, "")
		if err != nil {
			return err
		}
		prev, since = m, seq
		return nil
	}
	return save, gets.Load
}

// countingKV counts the reads of a bucket's keys.
type countingKV struct {
	jetstream.KeyValue
	gets *atomic.Int64
}

func (k countingKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	k.gets.Add(1)
	return k.KeyValue.Get(ctx, key)
}

// FromMemory returns the input events p took from the recent-writes log, and whether it
// follows that log now.
func FromMemory(p *Processor) (events uint64, following bool) {
	return p.fromMemory.Load(), p.inMemory.Load()
}

// RecentBytes is what the connection's recent-writes log holds.
func RecentBytes(c *Conn) int64 {
	c.recent.mu.Lock()
	defer c.recent.mu.Unlock()
	return c.recent.bytes
}
