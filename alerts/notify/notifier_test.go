package notify

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	inner := errors.New("slow down")
	wrapped := fmt.Errorf("webhook ops: %w", &RetryAfterError{Delay: 30 * time.Second, Err: inner})
	if d, ok := RetryDelay(wrapped); !ok || d != 30*time.Second {
		t.Errorf("RetryDelay(wrapped) = %v, %v; want 30s, true", d, ok)
	}
	if !errors.Is(wrapped, inner) {
		t.Error("RetryAfterError does not unwrap to its cause")
	}
	if got, want := wrapped.Error(), "webhook ops: slow down (retry after 30s)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if d, ok := RetryDelay(inner); ok || d != 0 {
		t.Errorf("RetryDelay(plain) = %v, %v; want 0, false", d, ok)
	}
	if _, ok := RetryDelay(nil); ok {
		t.Error("RetryDelay(nil) reported a delay")
	}
}

func TestBackoffBounds(t *testing.T) {
	const s, m = time.Second, time.Minute
	tests := []struct {
		attempt        int
		base, maxDelay time.Duration
		lo, ceil       time.Duration // every draw within [lo, ceil]
	}{
		{attempt: -3, base: s, maxDelay: 5 * m, lo: s / 2, ceil: s},
		{attempt: 0, base: s, maxDelay: 5 * m, lo: s / 2, ceil: s},
		{attempt: 1, base: s, maxDelay: 5 * m, lo: s / 2, ceil: s},
		{attempt: 2, base: s, maxDelay: 5 * m, lo: s / 2, ceil: 2 * s},
		{attempt: 5, base: s, maxDelay: 5 * m, lo: s / 2, ceil: 16 * s},
		{attempt: 9, base: s, maxDelay: 5 * m, lo: s / 2, ceil: 256 * s},
		{attempt: 10, base: s, maxDelay: 5 * m, lo: s / 2, ceil: 5 * m},
		{attempt: 1 << 30, base: s, maxDelay: 5 * m, lo: s / 2, ceil: 5 * m},
		{attempt: 3, base: m, maxDelay: 10 * s, lo: 10 * s, ceil: 10 * s}, // base above the cap
		{attempt: 3, base: 0, maxDelay: m},                                // disabled: always 0
		{attempt: 3, base: s, maxDelay: -1},                               // disabled: always 0
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("attempt=%d/base=%s/max=%s", tt.attempt, tt.base, tt.maxDelay), func(t *testing.T) {
			lo, hi := time.Duration(1<<62), time.Duration(-1)
			for range 2000 {
				d := Backoff(tt.attempt, tt.base, tt.maxDelay)
				lo, hi = min(lo, d), max(hi, d)
			}
			if lo < tt.lo || hi > tt.ceil {
				t.Fatalf("Backoff in [%s, %s], want within [%s, %s]", lo, hi, tt.lo, tt.ceil)
			}
			// Full jitter: 2000 uniform draws come within 10% of both ends.
			if span := tt.ceil - tt.lo; lo > tt.lo+span/10 || hi < tt.ceil-span/10 {
				t.Errorf("Backoff in [%s, %s], does not spread over [%s, %s]", lo, hi, tt.lo, tt.ceil)
			}
		})
	}
}

func BenchmarkBackoff(b *testing.B) {
	for b.Loop() {
		_ = Backoff(12, time.Second, 10*time.Minute)
	}
}
