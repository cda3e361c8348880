package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/email"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/slack"
	"github.com/newswatch/newswatch/alerts/webhook"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
)

// receiverSet delivers alerts to the configured receivers, each through its own durable
// consumer and goroutine, and applies a reloaded notify list without a restart: a receiver
// removed or changed stops (an alert it was delivering is redelivered, to its new settings),
// one added or changed starts. A receiver's durable consumer keeps its place across changes.
type receiverSet struct {
	conn    *events.Conn
	log     *slog.Logger
	now     func() time.Time
	ua      string
	metrics *alerts.DeliveryMetrics
	// hold, when set (cluster mode), runs a receiver's delivery only while this instance
	// holds its role.
	hold func(ctx context.Context, receiver string, fn func(context.Context) error) error

	mu      sync.Mutex
	ctx     context.Context // nil until run
	want    []config.Notify
	running map[string]*runningReceiver
	wg      sync.WaitGroup
}

type runningReceiver struct {
	cfg    config.Notify
	cancel context.CancelFunc
	done   chan struct{}
}

func newReceiverSet(conn *events.Conn, cfg *config.Config, deps Deps, log *slog.Logger) *receiverSet {
	s := &receiverSet{
		conn: conn, log: log, now: deps.Now, metrics: alerts.NewDeliveryMetrics(deps.Registry),
		ua:      fmt.Sprintf("newswatch/%s (+https://github.com/newswatch/newswatch)", deps.Version),
		want:    cfg.Notify,
		running: map[string]*runningReceiver{},
	}
	for _, n := range cfg.Notify {
		s.metrics.Init(n.Name)
	}
	return s
}

// run starts the receivers and keeps them running until ctx ends.
func (s *receiverSet) run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.apply()
	s.mu.Unlock()
	<-ctx.Done()
	s.wg.Wait()
	return nil
}

// update replaces the receivers (config reload).
func (s *receiverSet) update(list []config.Notify) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want = list
	if s.ctx != nil && s.ctx.Err() == nil {
		s.apply()
	}
}

// apply stops the receivers that are gone or changed and starts the new and changed ones.
// s.mu is held.
func (s *receiverSet) apply() {
	want := map[string]config.Notify{}
	for _, n := range s.want {
		want[n.Name] = n
	}
	for name, r := range s.running {
		if n, ok := want[name]; !ok || !reflect.DeepEqual(n, r.cfg) {
			r.cancel()
			<-r.done
			delete(s.running, name)
			if !ok {
				s.metrics.Forget(name)
			}
			s.log.Info("receiver stopped for a reload", "receiver", name, "still_configured", ok)
		}
	}
	for _, n := range s.want {
		if _, ok := s.running[n.Name]; ok {
			continue
		}
		d := s.deliverer(n)
		if d == nil {
			continue
		}
		ctx, cancel := context.WithCancel(s.ctx)
		r := &runningReceiver{cfg: n, cancel: cancel, done: make(chan struct{})}
		s.running[n.Name] = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(r.done)
			var pending sync.WaitGroup
			pending.Go(func() {
				s.metrics.WatchPending(ctx, n.Name, alerts.PendingInterval, s.conn.DeliveryPending, s.log.With("component", "delivery"))
			})
			defer pending.Wait()
			deliver := func(ctx context.Context) error { return s.conn.RunDelivery(ctx, n.Name, n.Topics, s.log, d.Handle) }
			if s.hold != nil {
				_ = s.hold(ctx, n.Name, deliver)
				return
			}
			_ = deliver(ctx)
		}()
	}
}

// deliverer returns the delivery handler of a receiver (nil for an unknown type, which
// config validation rejects).
func (s *receiverSet) deliverer(n config.Notify) *alerts.Deliverer {
	var nt notify.Notifier
	switch n.Type {
	case "webhook":
		nt = webhook.New(webhook.Config{Name: n.Name, URL: n.URL, Secret: n.Secret, UserAgent: s.ua, Now: s.now})
	case "slack":
		nt = slack.New(slack.Config{Name: n.Name, URL: n.URL})
	case "email":
		nt = email.New(email.Config{Name: n.Name, SMTP: n.SMTP, From: n.From, To: n.To, Username: n.Username, Password: n.Password, StartTLS: n.StartTLS})
	default:
		return nil
	}
	s.metrics.Init(n.Name)
	return &alerts.Deliverer{N: nt, MaxAge: n.MaxAge, Kinds: n.Kinds, M: s.metrics, Log: s.log.With("component", "delivery"), Now: s.now}
}
