package events

import (
	"context"
	"errors"
)

// ErrStop ends a Read early without error.
var ErrStop = errors.New("events: stop reading")

// Read delivers every event of stream on subjects from stream sequence from (0: the start) up
// to the stream's last sequence at the time of the call, in order, through an ordered consumer:
// the fastest way to read history. fn gets each event's JSON and stream sequence; returning
// ErrStop ends the read without error.
func (c *Conn) Read(ctx context.Context, stream string, subjects []string, from uint64, fn func(data []byte, seq uint64) error) error {
	_, err := c.Replay(ctx, stream, subjects, Range{FromSeq: from}, nil, func(e Event) (bool, error) {
		return true, fn(e.Data, e.Seq)
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}
