package events

import (
	"context"
	"errors"
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

// DeliveryAckWait is how long the server waits for the outcome of a delivery before it hands
// the alert out again. It is short so that an alert left in flight by a process killed
// mid-delivery (kill -9, a crash, a lost node) goes out again within seconds of the restart,
// not minutes; a delivery that takes longer (a webhook may take its whole timeout) tells the
// server every deliveryHeartbeat that it is still working (msg.InProgress).
const DeliveryAckWait = 6 * time.Second

// deliveryHeartbeat is how often an unfinished delivery renews its AckWait: four chances
// within one AckWait, so one late heartbeat on a busy machine does not cause a redelivery.
const deliveryHeartbeat = DeliveryAckWait / 4

// deliveryPoll bounds one wait for the next alert; an idle receiver asks again after it.
const deliveryPoll = 30 * time.Second

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
		AckWait:        DeliveryAckWait,
		MaxDeliver:     -1,
		MaxAckPending:  1,
		Replicas:       c.Replicas,
	})
	cancel()
	if err != nil {
		return fmt.Errorf("delivery consumer for %s: %w", receiver, err)
	}
	for {
		// One pull for one alert at a time (MaxAckPending is 1 anyway): no pull is left open
		// while an alert is being delivered, so an alert given back at shutdown is not
		// handed straight back to this stopping process.
		fctx, cancel := context.WithTimeout(ctx, deliveryPoll)
		msg, err := cons.Next(jetstream.FetchContext(fctx))
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		if err != nil {
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			_ = msg.Term()
			continue
		}
		d := handleAlive(ctx, msg, func() Decision {
			return handle(ctx, Delivery{Data: msg.Data(), Attempt: meta.NumDelivered, Stored: meta.Timestamp, Pending: meta.NumPending})
		})
		if ctx.Err() != nil && !d.Done && !d.DeadLetter {
			// Shutting down mid-delivery: give the alert back at once, so that the next start
			// delivers it without waiting out the AckWait.
			if err := msg.Nak(); err != nil {
				log.Warn("alert in flight not given back; it is delivered again after the ack wait",
					"receiver", receiver, "ack_wait", DeliveryAckWait.String(), "error", err)
			}
			return nil
		}
		// A delivery that finished as the shutdown began is still recorded.
		c.settle(context.WithoutCancel(ctx), receiver, msg, d, log)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// handleAlive runs a delivery, telling the server every deliveryHeartbeat that it is still in
// progress, so that a slow receiver is not handed the alert twice.
func handleAlive(ctx context.Context, msg jetstream.Msg, handle func() Decision) Decision {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(deliveryHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	defer func() { close(stop); <-done }()
	return handle()
}

// DeliveryPending is what waits for a receiver: alerts its consumer has not handed out yet
// plus those handed out and not yet settled (in flight, or waiting for a retry). 0 when the
// consumer does not exist yet.
func (c *Conn) DeliveryPending(ctx context.Context, receiver string) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	cons, err := c.JS.Consumer(cctx, AlertStream, DeliveryConsumerName(receiver))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("delivery consumer of %s: %w", receiver, err)
	}
	info := cons.CachedInfo()
	return info.NumPending + uint64(max(info.NumAckPending, 0)), nil
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
