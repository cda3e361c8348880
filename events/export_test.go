package events

import (
	"context"
	"time"
)

// SetStallAfter changes how long a consumer may stay quiet with undelivered events, for a test.
func SetStallAfter(d time.Duration) (restore func()) {
	old := stallAfter
	stallAfter = d
	return func() { stallAfter = old }
}

// PartedSaver saves proj in parts as its projector does, each save after the one before.
func PartedSaver(c *Conn, proj PartedProjection) func(seq uint64) error {
	var prev *manifest
	var since uint64
	return func(seq uint64) error {
		ctx := context.Background()
		kv, err := c.bucket(ctx)
		if err != nil {
			return err
		}
		m, err := c.saveParts(ctx, kv, proj.Name(), proj, prev, seq, since, "")
		if err != nil {
			return err
		}
		prev, since = m, seq
		return nil
	}
}
