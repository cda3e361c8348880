package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Decision is what a delivery handler wants done with an alert.
type Decision struct {
	// Done acks the alert (delivered).
	Done bool
	// Delay is when to try again, when neither Done nor DeadLetter.
	Delay time.Duration
	// DeadLetter keeps it on newswatch.deadletters.<receiver> with Reason, and stops trying.
	DeadLetter bool
	Reason     string
}

// Delivery is one alert handed to a receiver.
type Delivery struct {
	Data []byte
	// Attempt counts deliveries of this alert to this receiver, from 1.
	Attempt uint64
	// Stored is when the alert was appended to the stream.
	Stored time.Time
	// Pending is how many alerts wait behind this one for the receiver.
	Pending uint64
}

// DeliveryConsumerName is the durable consumer of a receiver.
func DeliveryConsumerName(receiver string) string { return "deliver-" + receiver }

// RunDelivery feeds alerts on the given topics (all when empty) to handle through the
// receiver's own durable consumer, one at a time and in order, so a slow or dead receiver holds
// up no other. It returns when ctx ends.
func (c *Conn) RunDelivery(ctx context.Context, receiver string, topics []string, log *slog.Logger,
	handle func(ctx context.Context, d Delivery) Decision) error {
	subjects := []string{AlertSubjectPrefix + "*"}
	if len(topics) > 0 {
		subjects = subjects[:0]
		for _, t := range topics {
			subjects = append(subjects, AlertSubjectPrefix+t)
		}
	}
	for {
		err := c.deliverLoop(ctx, receiver, subjects, log, handle)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("delivery consumer stopped; restarting", "receiver", receiver, "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (c *Conn) deliverLoop(ctx context.Context, receiver string, subjects []string, log *slog.Logger,
	handle func(context.Context, Delivery) Decision) error {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	cons, err := c.JS.CreateOrUpdateConsumer(cctx, AlertStream, jetstream.ConsumerConfig{
		Durable:        DeliveryConsumerName(receiver),
		Description:    "newswatch alert delivery to " + receiver,
		FilterSubjects: subjects,
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        2 * time.Minute,
		MaxDeliver:     -1,
		MaxAckPending:  1,
		Replicas:       c.Replicas,
	})
	cancel()
	if err != nil {
		return fmt.Errorf("delivery consumer for %s: %w", receiver, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			_ = msg.Term()
			continue
		}
		d := handle(ctx, Delivery{Data: msg.Data(), Attempt: meta.NumDelivered, Stored: meta.Timestamp, Pending: meta.NumPending})
		if ctx.Err() != nil {
			// Shutting down mid-delivery: leave it unacked; it is redelivered after a restart.
			return nil
		}
		c.settle(ctx, receiver, msg, d, log)
	}
}

func (c *Conn) settle(ctx context.Context, receiver string, msg jetstream.Msg, d Decision, log *slog.Logger) {
	var err error
	switch {
	case d.Done:
		err = msg.DoubleAck(ctx)
	case d.DeadLetter:
		if err = c.deadLetter(ctx, receiver, msg, d.Reason); err == nil {
			err = msg.Term()
		}
	default:
		err = msg.NakWithDelay(d.Delay)
	}
	if err != nil {
		log.Warn("delivery state not recorded; the alert may be delivered again", "receiver", receiver, "error", err)
	}
}

func (c *Conn) deadLetter(ctx context.Context, receiver string, msg jetstream.Msg, reason string) error {
	m := nats.NewMsg(DeadLetterSubjectPrefix + receiver)
	m.Data = msg.Data()
	for k, v := range msg.Headers() {
		if !strings.HasPrefix(k, "Nats-") {
			m.Header[k] = v
		}
	}
	m.Header.Set("Newswatch-Dead-Letter-Reason", reason)
	m.Header.Set("Newswatch-Original-Subject", msg.Subject())
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	_, err := c.JS.PublishMsg(cctx, m)
	return err
}
