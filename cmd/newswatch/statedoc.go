package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/newswatch/newswatch/events"
)

// Shared state documents: JSON documents in the state bucket that the API of any instance of a
// cluster may change (the runtime feeds, the API's silences). Every change is a read-modify-write
// of the whole document, conditional on the revision the instance holds (changeState), and
// every instance follows the others' changes (followState in cluster.go).

// maxChangeAttempts bounds how often a change is made again on a document another instance
// changed meanwhile. Each conflict means another change was stored, so a change gives up only
// when the others stored that many meanwhile, despite its pauses (changePause).
const maxChangeAttempts = 10

// changePause is the pause before attempt (2, 3, ...) of a change: random, so two instances
// that clashed do not clash again in step, and doubling from 10 ms up to 500 ms, so a busy
// writer drains its queued changes meanwhile; the pauses of a change add up to 2.2 s at most.
func changePause(attempt int) time.Duration {
	d := min(10*time.Millisecond<<(attempt-2), 500*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

// changeState stores a change to a shared state document: build makes the new document from
// the version held, which is written only over the revision held (rev; 0 when there is none).
// When another writer got there first, adopt makes the stored version the one held (rev then
// returns its revision) and build runs again on it, at most maxChangeAttempts times in all, so
// two changes made at once through two instances are both kept. It returns the revision
// written; the caller holds the new document with it, and serialises its changes and adopt.
func changeState(ctx context.Context, conn *events.Conn, key string, rev func() uint64,
	build func() ([]byte, error), adopt func(context.Context) error) (uint64, error) {
	for attempt := 1; ; attempt++ {
		data, err := build()
		if err != nil {
			return 0, err
		}
		n, err := conn.PutStateIf(ctx, key, data, rev())
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, events.ErrStateChanged) {
			return 0, err
		}
		if attempt == maxChangeAttempts {
			return 0, fmt.Errorf("state.%s was changed through another instance %d times while this change was made; try again: %w",
				key, attempt, err)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("state.%s: %w", key, context.Cause(ctx))
		case <-time.After(changePause(attempt + 1)):
		}
		if err := adopt(ctx); err != nil {
			return 0, err
		}
	}
}
