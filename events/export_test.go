package events

import "time"

// SetStallAfter changes how long a consumer may stay quiet with undelivered events, for a test.
func SetStallAfter(d time.Duration) (restore func()) {
	old := stallAfter
	stallAfter = d
	return func() { stallAfter = old }
}
