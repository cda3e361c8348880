package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Alert events. Their payload is the alert JSON itself (PRODUCT §5), so any NATS client can
// read it as is; the CloudEvents attributes travel as headers (binary mode: ce-specversion,
// ce-type, ce-id, ce-time, ce-source).
const (
	TypeAlert          = "newswatch.alert"
	AlertSchemaVersion = 1
	AlertSubjectPrefix = "newswatch.alerts."
	AlertStream        = "NEWSWATCH_ALERTS"
	// DeadLetterSubjectPrefix is followed by the receiver name.
	DeadLetterSubjectPrefix = "newswatch.deadletters."
	DeadLetterStream        = "NEWSWATCH_DEADLETTERS"
)

// PublishAlert appends an alert event. id is deterministic, so a retried publish is
// deduplicated; sourceSeq is the sequence of the last match event the alert covers.
func (c *Conn) PublishAlert(ctx context.Context, topic, id string, firedAt time.Time, data []byte, sourceSeq uint64) error {
	m := nats.NewMsg(AlertSubjectPrefix + topic)
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Header.Set(HeaderType, TypeAlert)
	m.Header.Set(HeaderSchema, strconv.Itoa(AlertSchemaVersion))
	m.Header.Set(HeaderSourceSeq, strconv.FormatUint(sourceSeq, 10))
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-type", TypeAlert)
	m.Header.Set("ce-id", id)
	m.Header.Set("ce-time", firedAt.UTC().Format(time.RFC3339Nano))
	m.Header.Set("ce-source", "/topics/"+topic)
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	_, err := c.JS.PublishMsg(cctx, m)
	if err := c.checkWrite(ctx, err); err != nil {
		return fmt.Errorf("append alert %s: %w", id, err)
	}
	return nil
}

// ReadAlerts delivers the alert events stored since the given time (all when zero), with the
// sequence of the last match each covers.
func (c *Conn) ReadAlerts(ctx context.Context, since time.Time, fn func(data []byte, seq, sourceSeq uint64) error) error {
	_, err := c.Replay(ctx, AlertStream, []string{AlertSubjectPrefix + "*"}, Range{FromTime: since}, nil,
		func(e Event) (bool, error) { return true, fn(e.Data, e.Seq, e.SourceSeq) })
	return err
}

// TailAlerts calls fn for every alert on topic (all when "") from since (only new ones when
// zero) until ctx ends.
func (c *Conn) TailAlerts(ctx context.Context, topic string, since time.Time, fn func(data []byte)) error {
	subject := AlertSubjectPrefix + "*"
	if topic != "" {
		subject = AlertSubjectPrefix + topic
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy}
	if !since.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	cons, err := c.JS.OrderedConsumer(cctx, AlertStream, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("tail alerts: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("tail alerts: %w", err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tail alerts: %w", err)
		}
		fn(msg.Data())
	}
}

// GetState reads a named document from the state bucket (nil when absent). A document whose
// object is lost reads as absent, after a warning: its owner rebuilds what it can, as after a
// first start, where an error would stop it at every start.
func (c *Conn) GetState(ctx context.Context, key string) ([]byte, error) {
	data, _, err := c.GetStateRev(ctx, key)
	return data, err
}

// PutState stores a named document in the state bucket; a large one (the spike detector's
// can reach megabytes) as an object behind a pointer.
func (c *Conn) PutState(ctx context.Context, key string, data []byte) error {
	kv, err := c.bucket(ctx)
	if err != nil {
		return err
	}
	return c.putLarge(ctx, kv, "state."+key, data)
}

// PutStateRev is PutState returning the key's revision after the write, for a writer that
// also follows the key (WatchState) and must tell its own write from an older one.
func (c *Conn) PutStateRev(ctx context.Context, key string, data []byte) (uint64, error) {
	kv, err := c.bucket(ctx)
	if err != nil {
		return 0, err
	}
	return c.putLargeRev(ctx, kv, "state."+key, data, nil)
}

// ErrStateChanged means a state document was written by someone else since the revision a
// conditional write expected: read it again, redo the change on it, and write again.
var ErrStateChanged = errors.New("events: the state document changed since it was read")

// PutStateIf writes a state document only while its key is at revision rev (0: absent) and
// returns the new revision, or an error wrapping ErrStateChanged when another writer (another
// instance of a cluster) got there first. A document over 512 KiB is checked before its object
// is written too, but two writers of one large document in the same instant can still damage
// it; keep such documents to one writer at a time.
func (c *Conn) PutStateIf(ctx context.Context, key string, data []byte, rev uint64) (uint64, error) {
	kv, err := c.bucket(ctx)
	if err != nil {
		return 0, err
	}
	return c.putLargeRev(ctx, kv, "state."+key, data, &rev)
}
