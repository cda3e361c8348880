package events

import (
	"testing"
	"time"
)

// Every tail looks for stalls at the same instants, multiples of stallAfter on the wall clock,
// so the quiet consumers of a daemon wake together.
func TestLooksFallOnSharedInstants(t *testing.T) {
	defer SetStallAfter(5 * time.Second)()
	base := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Duration // after base, itself a multiple of 5 s
		want time.Duration
	}{
		{0, 5 * time.Second},
		{time.Nanosecond, 5*time.Second - time.Nanosecond},
		{1300 * time.Millisecond, 3700 * time.Millisecond},
		{4999 * time.Millisecond, time.Millisecond},
		{7 * time.Second, 3 * time.Second},
	} {
		if got := untilLook(base.Add(tc.now)); got != tc.want {
			t.Errorf("untilLook(base+%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}
