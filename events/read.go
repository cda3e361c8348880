package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrStop ends a Read early without error.
var ErrStop = errors.New("events: stop reading")

// Read delivers every event of stream on subjects from stream sequence from (0: the start) up
// to the stream's last sequence at the time of the call, in order, through an ordered consumer:
// the fastest way to read history. fn gets each event's JSON and stream sequence; returning
// ErrStop ends the read without error.
func (c *Conn) Read(ctx context.Context, stream string, subjects []string, from uint64, fn func(data []byte, seq uint64) error) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = from
	}
	return c.readMsgs(ctx, stream, cfg, func(msg jetstream.Msg, seq uint64) error { return fn(msg.Data(), seq) })
}

// readMsgs reads what an ordered consumer delivers up to the stream's state at the start.
func (c *Conn) readMsgs(ctx context.Context, stream string, cfg jetstream.OrderedConsumerConfig, fn func(jetstream.Msg, uint64) error) error {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	cons, err := c.JS.OrderedConsumer(cctx, stream, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("read %s: %w", stream, err)
	}
	info := cons.CachedInfo()
	if info == nil || info.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("read %s: %w", stream, err)
	}
	defer it.Stop()
	for {
		nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := it.Next(jetstream.NextContext(nctx))
		cancel()
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		err = fn(msg, meta.Sequence.Stream)
		if errors.Is(err, ErrStop) {
			return nil
		}
		if err != nil {
			return err
		}
		if meta.NumPending == 0 {
			return nil
		}
	}
}
