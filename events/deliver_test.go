package events

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// An alert left in flight by a process that died (its connection and server gone without an
// ack) is delivered again within seconds of the restart, also when the receiver's consumer
// was made by an older version with a two-minute ack wait.
func TestAlertLeftInFlightIsDeliveredSoonAfterRestart(t *testing.T) {
	dir := t.TempDir()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := Connect(t.Context(), ConnConfig{DataDir: dir}, lg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	old := jetstream.ConsumerConfig{Durable: DeliveryConsumerName("hook"), FilterSubjects: []string{AlertSubjectPrefix + "*"},
		DeliverPolicy: jetstream.DeliverNewPolicy, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Minute,
		MaxDeliver: -1, MaxAckPending: 1}
	cons, err := c.JS.CreateOrUpdateConsumer(t.Context(), AlertStream, old)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alert-1", "alert-2"} {
		if err := c.PublishAlert(t.Context(), "k", id, time.Now(), []byte(`{"id":"`+id+`"}`), 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cons.Next(); err != nil { // in flight when the process dies
		t.Fatal(err)
	}
	if n, err := c.DeliveryPending(t.Context(), "hook"); err != nil || n != 2 {
		t.Errorf("pending with one in flight and one waiting = %d, %v; want 2", n, err)
	}
	c.NC.Close()
	c.shutdownServer()

	c, err = Connect(t.Context(), ConnConfig{DataDir: dir}, lg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.DeliveryPending(t.Context(), "hook"); err != nil || n != 2 {
		t.Errorf("pending after the restart = %d, %v; want 2", n, err)
	}
	got := make(chan string, 4)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		_ = c.RunDelivery(ctx, "hook", nil, lg, func(_ context.Context, d Delivery) Decision {
			got <- string(d.Data)
			return Decision{Done: true}
		})
	}()
	defer func() { cancel(); <-done }()
	for range 2 {
		select {
		case <-got:
		case <-time.After(30 * time.Second): // the old ack wait was 2 minutes; the new one is 6 s
			t.Fatalf("alerts not delivered %v after the restart", time.Since(start))
		}
	}
	t.Logf("both alerts delivered %v after the restart", time.Since(start).Round(time.Millisecond))
}
