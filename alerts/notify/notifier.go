package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Notifier delivers alerts to one receiver. Implementations are safe for concurrent use.
//
// Notify returns (false, nil) when the alert was delivered. On failure, retry says what the
// caller should do: true means the failure may be transient and the alert should be delivered
// again later (after RetryDelay(err) when it reports one, else after a Backoff); false means
// the failure is permanent: retrying cannot help, and the alert goes to the dead letters at
// once. Receivers deduplicate repeated deliveries by the alert id.
type Notifier interface {
	// Name identifies the receiver in logs, metrics and dead letters.
	Name() string
	// Notify delivers one alert.
	Notify(ctx context.Context, a Alert) (retry bool, err error)
}

// RetryAfterError is a retryable failure for which the receiver asked for a delay, as with
// an HTTP Retry-After header.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

// Error describes the failure and the requested delay.
func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Delay)
}

// Unwrap returns the underlying failure.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryDelay returns the delay requested by a RetryAfterError anywhere in err's chain.
// The delay is the receiver's wish, not bounded here: callers clamp it to their own limits.
func RetryDelay(err error) (time.Duration, bool) {
	if e, ok := errors.AsType[*RetryAfterError](err); ok {
		return e.Delay, true
	}
	return 0, false
}

// Backoff returns how long to wait before the next delivery after attempt failed ones
// (attempt 1 is the first delivery; JetStream's NumDelivered counts the same way).
//
// The wait is capped exponential with full jitter and a floor: the ceiling is
// base·2^(attempt-1), at most maxDelay, and the result is drawn uniformly from
// [min(base/2, ceiling), ceiling]. Full jitter spreads the retries of many alerts that failed
// together (a receiver outage) instead of sending them back in waves; the floor of base/2
// keeps a retry from coming back almost at once. Attempts below 1 count as 1; a
// non-positive base or maxDelay yields 0.
func Backoff(attempt int, base, maxDelay time.Duration) time.Duration {
	if base <= 0 || maxDelay <= 0 {
		return 0
	}
	ceiling := min(base, maxDelay)
	for i := 1; i < attempt && ceiling < maxDelay; i++ {
		if ceiling > maxDelay/2 {
			ceiling = maxDelay
			break
		}
		ceiling *= 2
	}
	floor := min(base/2, ceiling)
	return floor + rand.N(ceiling-floor+1)
}
