package events

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// Appender appends derived events in atomic batches, for tools such as a backfill.
type Appender struct {
	c    *Conn
	msgs []*nats.Msg
	// Appended counts the events stored so far.
	Appended int
}

// NewAppender returns an empty Appender.
func (c *Conn) NewAppender() *Appender { return &Appender{c: c} }

// Add queues an event, appending the queue when it is full.
func (a *Appender) Add(ctx context.Context, o Outgoing) error {
	m := nats.NewMsg(o.Subject)
	m.Data = o.Data
	m.Header.Set(jetstream.MsgIDHeader, o.MsgID)
	m.Header.Set(HeaderType, o.Type)
	a.msgs = append(a.msgs, m)
	if len(a.msgs) >= maxBatchMsgs {
		return a.Flush(ctx)
	}
	return nil
}

// Flush appends what is queued.
func (a *Appender) Flush(ctx context.Context) error {
	if len(a.msgs) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	_, err := jetstreamext.PublishMsgBatch(cctx, a.c.JS, a.msgs)
	cancel()
	if isDuplicateBatch(err) {
		// Some were stored within the duplicate window already: append one by one, and the
		// server acknowledges the known ones as duplicates without storing them again.
		err = nil
		for _, m := range a.msgs {
			cctx, cancel := context.WithTimeout(ctx, apiTimeout)
			_, perr := a.c.JS.PublishMsg(cctx, m)
			cancel()
			if perr != nil {
				err = perr
				break
			}
		}
	}
	if err := a.c.checkWrite(ctx, err); err != nil {
		return fmt.Errorf("append %d events: %w", len(a.msgs), err)
	}
	a.Appended += len(a.msgs)
	a.msgs = a.msgs[:0]
	return nil
}
