// Package cluster lets several identical newswatch instances share one NATS cluster: who is
// alive (membership), who runs each single-writer role (leases) and which instance polls a
// feed in a slot (rendezvous hashing plus a per-slot claim). Everything is JetStream KV:
// a bucket whose MaxAge is the lease TTL holds the members and the leases, so a key that is
// not renewed disappears by itself when its instance dies; a second bucket holds the claims.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// Bucket names.
const (
	// Bucket holds member.<instance> and role.<role> keys, each expiring TTL after its last
	// write.
	Bucket = "newswatch_cluster"
	// ClaimBucket holds poll.<feed>.<slot> keys: the instance that polls the feed in that slot.
	ClaimBucket = "newswatch_poll_claims"
	// ClaimTTL is how long a slot's claim is kept: far longer than any two instances can
	// disagree about who owns a feed, far shorter than keeping every slot forever.
	ClaimTTL = 15 * time.Minute
)

// Config configures a Node.
type Config struct {
	// Instance names this instance; DefaultInstance() when empty. Only [A-Za-z0-9_-] are
	// kept, others become '-'.
	Instance string
	// TTL is how long a member or lease key lives without renewal (default 6s): a dead
	// instance's roles move after at most about TTL plus a second.
	TTL      time.Duration
	Replicas int
	// Roles are the roles whose metrics start at 0, so "no instance holds X" can be told
	// from "X does not exist".
	Roles      []string
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// DefaultTTL is the lease and membership TTL when none is configured.
const DefaultTTL = 6 * time.Second

// Node is this instance's membership in the cluster.
type Node struct {
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	claims jetstream.KeyValue
	id     string
	ttl    time.Duration
	log    *slog.Logger
	m      *metrics

	mu        sync.RWMutex
	members   []string // sorted, this instance included while its heartbeat is fresh
	lastBeat  time.Time
	held      map[string]bool
	everBeats bool
}

// DefaultInstance is the hostname and process id, which is unique per host and per pod.
func DefaultInstance() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", cmpOr(h, "newswatch"), os.Getpid())
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sanitize keeps an instance or role name usable as a KV key token.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// New creates (or updates) the buckets and returns a Node; call Run to join the cluster.
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Node, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	n := &Node{
		js: js, id: sanitize(cmpOr(cfg.Instance, DefaultInstance())), ttl: cfg.TTL,
		log: cfg.Logger.With("component", "cluster"), held: map[string]bool{},
	}
	var err error
	if n.kv, err = ensureBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "newswatch instances and role leases; a key lives TTL after its last write",
		History: 1, TTL: cfg.TTL, Storage: jetstream.FileStorage, Replicas: max(cfg.Replicas, 1),
	}); err != nil {
		return nil, err
	}
	if n.claims, err = ensureBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket: ClaimBucket, Description: "newswatch poll claims: which instance polls a feed in a slot",
		History: 1, TTL: ClaimTTL, Storage: jetstream.FileStorage, Replicas: max(cfg.Replicas, 1),
	}); err != nil {
		return nil, err
	}
	n.m = newMetrics(cfg.Registerer, n, cfg.Roles)
	return n, nil
}

func ensureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// ID is this instance's name in the cluster.
func (n *Node) ID() string { return n.id }

// TTL is the lease and membership TTL.
func (n *Node) TTL() time.Duration { return n.ttl }

// renewEvery is how often keys are rewritten: four times per TTL, so a single slow or lost
// write does not cost a lease.
func (n *Node) renewEvery() time.Duration { return n.ttl / 4 }

// margin is how long before its key may expire a holder that cannot renew stops its role,
// so that it has stopped before anyone else can start it.
func (n *Node) margin() time.Duration { return n.ttl / 4 }

// Members is the sorted list of live instances as last read.
func (n *Node) Members() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.members
}

// Holds reports whether this instance holds the role now.
func (n *Node) Holds(role string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.held[role]
}

func (n *Node) setHeld(role string, v bool) {
	n.mu.Lock()
	n.held[role] = v
	n.mu.Unlock()
	if v {
		n.m.held.WithLabelValues(role).Set(1)
	} else {
		n.m.held.WithLabelValues(role).Set(0)
	}
}

type memberValue struct {
	Instance string    `json:"instance"`
	Since    time.Time `json:"since"`
}

// Run keeps this instance's member key alive and the member list fresh until ctx ends, then
// deletes the key so the others rebalance at once.
func (n *Node) Run(ctx context.Context) error {
	val, err := json.Marshal(memberValue{Instance: n.id, Since: time.Now().UTC()})
	if err != nil {
		return err
	}
	key := "member." + n.id
	t := time.NewTicker(n.renewEvery())
	defer t.Stop()
	for {
		n.beat(ctx, key, val)
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = n.kv.Delete(dctx, key)
			cancel()
			return nil
		case <-t.C:
		}
	}
}

// beat writes the member key and reads the member list.
func (n *Node) beat(ctx context.Context, key string, val []byte) {
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, n.ttl/2)
	defer cancel()
	if _, err := n.kv.Put(cctx, key, val); err != nil {
		if ctx.Err() == nil {
			n.log.Warn("cluster heartbeat failed", "error", err)
		}
	} else {
		n.mu.Lock()
		n.lastBeat, n.everBeats = sent, true
		n.mu.Unlock()
	}
	list, err := n.listMembers(cctx)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("cluster member list unreadable", "error", err)
		}
		return
	}
	n.mu.Lock()
	fresh := n.everBeats && time.Since(n.lastBeat) < n.ttl-n.margin()
	if !fresh {
		// Our own key may be gone: others have taken our feeds, so we must not poll them.
		list = slices.DeleteFunc(list, func(s string) bool { return s == n.id })
	} else if !slices.Contains(list, n.id) {
		list = append(list, n.id)
	}
	slices.Sort(list)
	changed := !slices.Equal(list, n.members)
	n.members = list
	n.mu.Unlock()
	if changed {
		n.log.Info("cluster members changed", "members", list)
		n.m.memberChanges.Inc()
	}
}

// listMembers reads the last message of every member key in one direct get, which any
// replica answers (listing keys through a watcher creates a consumer each time, which a busy
// stream leader answers slowly). Expired keys are gone; deleted ones end in a marker.
func (n *Node) listMembers(ctx context.Context) ([]string, error) {
	msgs, err := jetstreamext.GetLastMsgsFor(ctx, n.js, "KV_"+Bucket, []string{"$KV." + Bucket + ".member.>"})
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	var out []string
	for m, err := range msgs {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
			continue
		}
		out = append(out, strings.TrimPrefix(m.Subject, "$KV."+Bucket+".member."))
	}
	return out, nil
}
