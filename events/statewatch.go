package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrWatchEnded means a state watch stopped delivering (the connection closed, the server
// dropped the consumer): start it again.
var ErrWatchEnded = errors.New("events: state watch ended")

// WatchState calls changed once the watch is in place, and again each time the state document
// key is written or deleted, until ctx ends (nil), changed fails (its error), or the watch does
// (an error; the caller starts it again, and the first call of the new watch catches up with
// whatever it missed). Changes that arrive together are coalesced into one call: changed is a
// signal to read the newest version (GetStateRev), never a value, so a call delayed behind a
// later write cannot bring back an older version. Only the headers of the key's messages travel.
func (c *Conn) WatchState(ctx context.Context, key string, changed func(ctx context.Context) error) error {
	kv, err := c.bucket(ctx)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The context of a watch is its lifetime, so its creation is bounded by a timer: before a
	// cluster has a meta leader, creating the consumer would otherwise wait for ever.
	timer := time.AfterFunc(apiTimeout, cancel)
	w, err := kv.Watch(wctx, "state."+key, jetstream.MetaOnly())
	if !timer.Stop() && err == nil {
		_ = w.Stop()
		err = context.DeadlineExceeded
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch state.%s: %w", key, err)
	}
	defer func() { _ = w.Stop() }()
	if err := changed(ctx); err != nil {
		return ended(ctx, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("watch state.%s: %w", key, ErrWatchEnded)
			}
		}
		// Coalesce what else is waiting (the initial value's nil marker, a burst of writes).
	drain:
		for {
			select {
			case _, ok := <-w.Updates():
				if !ok {
					break drain
				}
			default:
				break drain
			}
		}
		if err := changed(ctx); err != nil {
			return ended(ctx, err)
		}
	}
}

// ended is WatchState's answer when changed failed with err: nil when ctx ended meanwhile (a
// read cut short by the end of the watch is no failure), err otherwise.
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// GetStateRev is GetState with the revision of the key (0 when absent): a follower compares
// it with the revision of the version it holds. A document whose object is lost reads as
// absent at its revision.
func (c *Conn) GetStateRev(ctx context.Context, key string) ([]byte, uint64, error) {
	kv, err := c.bucket(ctx)
	if err != nil {
		return nil, 0, err
	}
	ent, err := c.getLarge(ctx, kv, "state."+key)
	if errors.Is(err, errObjectLost) {
		c.log.Warn("state document lost; starting without it", "key", "state."+key, "error", err)
		return nil, ent.rev, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return ent.value, ent.rev, nil
}
