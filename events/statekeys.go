package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// State documents one per item (a feed's WebSub subscription, state.websub.<feed>): written
// with PutStateIf over the revision read with GetStateRev, deleted and listed here.

// DeleteState deletes state.<key> (and its object, when it was large); an absent key is not an
// error.
func (c *Conn) DeleteState(ctx context.Context, key string) error {
	kv, err := c.bucket(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := kv.Delete(cctx, "state."+key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete state.%s: %w", key, err)
	}
	c.deleteObjects(ctx, "state."+key, "")
	return nil
}

// ListState calls fn with every key under state.<prefix>. (its part after the prefix) and its
// value. The values come in one pass, a watch of the keys' newest values (no round trip per
// key); a large value is read from its object, and one whose object is lost is left out after a
// warning, as GetState reads it as absent.
func (c *Conn) ListState(ctx context.Context, prefix string, fn func(key string, data []byte) error) error {
	entries, err := c.stateEntries(ctx, prefix)
	if err != nil {
		return err
	}
	full := "state." + prefix + "."
	for _, e := range entries {
		data, err := c.resolve(ctx, e.Key(), e.Value())
		if errors.Is(err, errObjectLost) {
			c.log.Warn("state document lost; starting without it", "key", e.Key(), "error", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("list state.%s: %w", prefix, err)
		}
		if err := fn(strings.TrimPrefix(e.Key(), full), data); err != nil {
			return err
		}
	}
	return nil
}

// stateEntries returns the newest entry of every key under state.<prefix>., deleted ones left
// out. The entries are gathered before any is used, so the watch is gone before fn does I/O.
func (c *Conn) stateEntries(ctx context.Context, prefix string) ([]jetstream.KeyValueEntry, error) {
	kv, err := c.bucket(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	w, err := kv.Watch(cctx, "state."+prefix+".>", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list state.%s: %w", prefix, err)
	}
	defer func() { _ = w.Stop() }()
	var out []jetstream.KeyValueEntry
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("list state.%s: %w", prefix, ErrWatchEnded)
			}
			if e == nil { // the newest values are all in
				return out, nil
			}
			out = append(out, e)
		case <-cctx.Done():
			return nil, fmt.Errorf("list state.%s: %w", prefix, cctx.Err())
		}
	}
}
