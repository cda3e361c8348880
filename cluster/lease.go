package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// leaseValue is the content of a role.<role> key. Token is new for every term, so a holder
// whose write timed out but landed can recognise its own key.
type leaseValue struct {
	Instance string    `json:"instance"`
	Token    string    `json:"token"`
	Since    time.Time `json:"since"`
}

func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RoleKey is the KV key of a role's lease.
func RoleKey(role string) string { return "role." + sanitizeRole(role) }

// sanitizeRole keeps dots (delivery.<receiver>) as key token separators.
func sanitizeRole(role string) string {
	out := []byte(role)
	for i, c := range out {
		if c != '.' && sanitize(string(c)) != string(c) {
			out[i] = '-'
		}
	}
	return string(out)
}

// Hold runs fn while this instance holds the role's lease, and only then, until ctx ends.
// A standby tries to take the lease about every second; the holder renews it four times per
// TTL. A holder that cannot renew stops fn before its key can expire (TTL minus a quarter);
// fn's ctx is cancelled and Hold waits for fn to return before anyone else can start the role
// (after the key expired), as long as fn returns within that quarter of the TTL. When ctx
// ends, fn stops and the lease is released so a standby takes over at once. fn is restarted
// after a second if it returns while the lease is held; every term calls fn afresh.
func (n *Node) Hold(ctx context.Context, role string, fn func(context.Context) error) error {
	key := RoleKey(role)
	log := n.log.With("role", role)
	for {
		rev, val, ok := n.acquire(ctx, key)
		if !ok {
			return nil
		}
		n.setHeld(role, true)
		n.m.acquired.WithLabelValues(role).Inc()
		log.Info("role acquired", "instance", n.id)
		lost := n.serve(ctx, key, rev, val, role, fn)
		n.setHeld(role, false)
		if !lost {
			return nil
		}
		n.m.lost.WithLabelValues(role).Inc()
		log.Warn("role lost; standing by", "instance", n.id)
	}
}

// acquire waits until this instance holds the key; false when ctx ended first.
func (n *Node) acquire(ctx context.Context, key string) (uint64, []byte, bool) {
	val, _ := json.Marshal(leaseValue{Instance: n.id, Token: newToken(), Since: time.Now().UTC()})
	t := time.NewTicker(min(time.Second, n.renewEvery()))
	defer t.Stop()
	for {
		if rev, ok := n.tryAcquire(ctx, key, val); ok {
			return rev, val, true
		}
		select {
		case <-ctx.Done():
			return 0, nil, false
		case <-t.C:
		}
	}
}

func (n *Node) tryAcquire(ctx context.Context, key string, val []byte) (uint64, bool) {
	cctx, cancel := context.WithTimeout(ctx, n.renewEvery())
	defer cancel()
	rev, err := n.kv.Create(cctx, key, val)
	if err == nil {
		return rev, true
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, false
	}
	// Still ours from a term that ended because renewals failed: take it back.
	e, err := n.kv.Get(cctx, key)
	if err != nil {
		return 0, false
	}
	var cur leaseValue
	if json.Unmarshal(e.Value(), &cur) != nil || cur.Instance != n.id {
		return 0, false
	}
	rev, err = n.kv.Update(cctx, key, val, e.Revision())
	return rev, err == nil
}

// serve runs fn and renews the lease until the lease is lost (true) or ctx ends (false).
func (n *Node) serve(ctx context.Context, key string, rev uint64, val []byte, role string, fn func(context.Context) error) bool {
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.runRole(runCtx, role, fn)
	}()
	stop := func() {
		cancel()
		<-done
	}
	lastOK := time.Now()
	t := time.NewTicker(n.renewEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			stop()
			n.release(context.WithoutCancel(ctx), key, rev)
			return false
		case <-t.C:
		}
		sent := time.Now()
		// A slow write is still in time until the key could expire: wait that long for it.
		next, err := n.renew(ctx, lastOK.Add(n.ttl-n.margin()), key, rev, val)
		switch {
		case err == nil:
			rev, lastOK = next, sent
		case errors.Is(err, errLeaseTaken):
			stop()
			return true
		case time.Since(lastOK) >= n.ttl-n.margin():
			n.log.Warn("lease not renewed in time; stopping the role", "role", role, "error", err)
			stop()
			return true
		}
	}
}

var errLeaseTaken = errors.New("cluster: lease held by another instance")

// renew rewrites the key at its revision. A revision mismatch after a write that timed out
// but landed is recognised by the token.
func (n *Node) renew(ctx context.Context, deadline time.Time, key string, rev uint64, val []byte) (uint64, error) {
	cctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	next, err := n.kv.Update(cctx, key, val, rev)
	if err == nil || !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return next, err
	}
	e, gerr := n.kv.Get(cctx, key)
	if errors.Is(gerr, jetstream.ErrKeyNotFound) {
		return 0, errLeaseTaken // expired: a standby may hold it by now
	}
	if gerr != nil {
		return 0, gerr
	}
	if string(e.Value()) != string(val) {
		return 0, errLeaseTaken
	}
	return e.Revision(), nil
}

func (n *Node) release(ctx context.Context, key string, rev uint64) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := n.kv.Delete(cctx, key, jetstream.LastRevision(rev)); err != nil {
		n.log.Debug("lease not released; it expires by itself", "key", key, "error", err)
	}
}

// runRole runs fn until ctx ends, again after a second when it returns early.
func (n *Node) runRole(ctx context.Context, role string, fn func(context.Context) error) {
	for {
		err := fn(ctx)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("role stopped by itself; restarting it", "role", role, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
