package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// storeUnavailableFor is how long startup waits for a stream of the event store to answer: in
// a cluster, a stream whose leader has just gone answers nothing until the others elect one.
const storeUnavailableFor = 60 * time.Second

// unavailable reports whether err says a stream or the JetStream API did not answer, which a
// cluster electing a leader does for some seconds.
func unavailable(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}

// retryUnavailable runs step until it succeeds, fails otherwise than unavailable, ctx ends or
// storeUnavailableFor has passed, waiting a little longer after each try, and logs each retry.
func retryUnavailable(ctx context.Context, log *slog.Logger, what string, step func() error) error {
	deadline := time.Now().Add(storeUnavailableFor)
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := step()
		if err == nil || !unavailable(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		log.Warn("event store unavailable; retrying", "component", "nats", "step", what, "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}
