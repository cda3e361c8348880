package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestRetryUnavailable: startup steps are retried while the store does not answer (a cluster
// electing a leader), not on other errors, and not past storeUnavailableFor.
func TestRetryUnavailable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retryUnavailable(t.Context(), slog.New(slog.DiscardHandler), "test", func() error {
			calls++
			if calls < 3 {
				return fmt.Errorf("record store identity: %w", jetstream.ErrNoStreamResponse)
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Errorf("got %v after %d calls, want nil after 3", err, calls)
		}

		calls = 0
		bad := errors.New("stream name already in use with a different configuration")
		if err := retryUnavailable(t.Context(), slog.New(slog.DiscardHandler), "test", func() error { calls++; return bad }); !errors.Is(err, bad) || calls != 1 {
			t.Errorf("a lasting error: got %v after %d calls, want it after 1", err, calls)
		}

		start := time.Now()
		err = retryUnavailable(t.Context(), slog.New(slog.DiscardHandler), "test", func() error { return jetstream.ErrNoStreamResponse })
		if !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Errorf("a store that never answers: got %v", err)
		}
		if took := time.Since(start); took < storeUnavailableFor || took > storeUnavailableFor+5*time.Second {
			t.Errorf("gave up after %v, want about %v", took, storeUnavailableFor)
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		calls = 0
		if err := retryUnavailable(ctx, slog.New(slog.DiscardHandler), "test", func() error { calls++; return context.DeadlineExceeded }); err == nil || calls != 1 {
			t.Errorf("a cancelled start: got %v after %d calls", err, calls)
		}
	})
}
