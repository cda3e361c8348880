package main

import (
	"context"
	"time"

	"github.com/newswatch/newswatch/cluster"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds"
)

// The single-writer roles of cluster mode: each runs on one instance at a time.
const (
	roleMatcher   = "matcher"
	roleAlerts    = "alerts"
	roleSpikes    = "spikes"
	roleDigests   = "digests"
	roleSnapshots = "snapshots"
	roleFullText  = "fulltext"
)

// deliveryRole is the role of delivering one receiver's alerts.
func deliveryRole(receiver string) string { return "delivery." + receiver }

// joinCluster makes the App one instance of a cluster when cluster mode is on: it creates the
// cluster buckets and the Node; roles and feed ownership are asked of it from then on.
// Without cluster mode the instance exports the cluster metrics of a cluster of one.
func (a *App) joinCluster(ctx context.Context, cfg *config.Config) error {
	roles := []string{roleMatcher, roleFullText, roleAlerts, roleSpikes, roleDigests, roleSnapshots}
	for _, n := range cfg.Notify {
		roles = append(roles, deliveryRole(n.Name))
	}
	if !cfg.Cluster.Enabled {
		cluster.Standalone(a.deps.Registry, roles, func() int { return len(a.polledIDs()) })
		return nil
	}
	node, err := cluster.New(ctx, a.conn.JS, cluster.Config{
		Instance: cfg.Cluster.Instance, TTL: cfg.Cluster.LeaseTTL, Replicas: cfg.NATS.Replicas,
		Roles: roles, Registerer: a.deps.Registry, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.node = node
	node.CountFeeds(a.polledIDs)
	a.log.Info("cluster mode", "component", "cluster", "instance", node.ID(), "lease_ttl", node.TTL().String())
	return nil
}

// polledIDs are the ids of the feeds polled now, of the file and added at run time (the file's
// alone before the poller exists).
func (a *App) polledIDs() []string {
	if a.poller == nil {
		ids := make([]string, len(a.config().Feeds))
		for i, f := range a.config().Feeds {
			ids[i] = f.ID
		}
		return ids
	}
	list := a.poller.Feeds()
	ids := make([]string, len(list))
	for i, f := range list {
		ids[i] = f.ID
	}
	return ids
}

// role returns fn as is without cluster mode, else fn run only while this instance holds the
// role (a fresh call of fn per term; standing by in between).
func (a *App) role(name string, fn func(context.Context) error) func(context.Context) error {
	if a.node == nil {
		return fn
	}
	return func(ctx context.Context) error { return a.node.Hold(ctx, name, fn) }
}

// holds reports whether this instance runs the role (always, without cluster mode).
func (a *App) holds(role string) bool { return a.node == nil || a.node.Holds(role) }

// feedOwnership is the poller's ownership predicate: nil (poll everything) without cluster
// mode.
func (a *App) feedOwnership() (feeds.OwnsFunc, string) {
	if a.node == nil {
		return nil, ""
	}
	return a.node.OwnsFeed, a.node.ID()
}

// holdDelivery runs a receiver's delivery under its role.
func (a *App) holdDelivery(ctx context.Context, receiver string, fn func(context.Context) error) error {
	return a.role(deliveryRole(receiver), fn)(ctx)
}

// runCluster adds the cluster's own loops to the App's: the membership heartbeat and the
// snapshots role, whose holder saves the shared projection snapshots.
func (a *App) runCluster(ctx context.Context, goFn func(func() error)) {
	if a.node == nil {
		return
	}
	goFn(func() error { return a.node.Run(ctx) })
	goFn(func() error {
		return a.node.Hold(ctx, roleSnapshots, func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})
	})
	goFn(func() error { a.followState(ctx, silenceStateKey, a.syncSilences); return nil })
	goFn(func() error { a.followState(ctx, runtimeFeedsKey, a.syncSources); return nil })
}

// followState keeps this instance up with a state document that any instance of the cluster
// may change (the API's silences, the runtime feeds): it watches the key and calls sync, which
// reads the newest version and applies it when it is newer than the one held (so the instance
// that wrote a version does not apply it again). A change made through any instance is thus
// applied on every other within moments. The watch is one goroutine per key; when it fails, or
// sync does, the failure is logged and counted (newswatch_state_follow_errors_total) and the
// watch starts again after a pause of 1 s, doubling up to 30 s, and its first sync catches up
// with whatever was missed.
func (a *App) followState(ctx context.Context, key string, sync func(context.Context) error) {
	const first, most = time.Second, 30 * time.Second
	pause := first
	for ctx.Err() == nil {
		began := time.Now()
		err := a.conn.WatchState(ctx, key, sync)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > time.Minute {
			pause = first // a watch that held for a while failed afresh
		}
		a.followErrors.WithLabelValues(key).Inc()
		a.log.Warn("following a shared state document failed; watching it again", "component", "cluster",
			"key", "state."+key, "retry_in", pause.String(), "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, most)
	}
}

// joined waits (a little) for the first member list, so the first polls know their owners.
func (a *App) joined(ctx context.Context) {
	if a.node == nil {
		return
	}
	deadline := time.Now().Add(a.node.TTL())
	for len(a.node.Members()) == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
}
