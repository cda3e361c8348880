package cluster

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Owner is the member that owns a feed under rendezvous (highest random weight) hashing:
// every member scores every feed and the highest score wins, so a member joining or leaving
// moves only the feeds it wins or held (about 1/N of them), and every instance that sees the
// same member list agrees without talking. "" when members is empty.
func Owner(members []string, feed string) string {
	best, bestScore := "", uint64(0)
	for _, m := range members {
		s := score(m, feed)
		if best == "" || s > bestScore || s == bestScore && m < best {
			best, bestScore = m, s
		}
	}
	return best
}

func score(member, feed string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(member))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(feed))
	// FNV alone clusters for inputs that differ in a trailing character; the splitmix64
	// finalizer spreads them.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// ClaimKey is the claim bucket's key for a feed's slot.
func ClaimKey(feed string, slot time.Time) string {
	return "poll." + feed + "." + strconv.FormatInt(slot.Unix(), 10)
}

// OwnsFeed reports whether this instance polls the feed in the slot: it must be the feed's
// rendezvous owner among the live members, and it must win the slot's claim (a KV create,
// which fails when another instance created it first). The claim is what rules out a second
// poll of the slot while two instances briefly disagree about the members; ownership is what
// spreads the feeds. A claim that cannot be written counts as lost: the slot is skipped.
func (n *Node) OwnsFeed(ctx context.Context, feed string, slot time.Time) bool {
	if Owner(n.Members(), feed) != n.id {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := n.claims.Create(cctx, ClaimKey(feed, slot), []byte(n.id))
	switch {
	case err == nil:
		n.m.claims.WithLabelValues("won").Inc()
		return true
	case errors.Is(err, jetstream.ErrKeyExists):
		n.m.claims.WithLabelValues("taken").Inc()
		return false
	default:
		n.m.claims.WithLabelValues("error").Inc()
		n.log.Warn("poll claim not written; slot skipped", "feed", feed, "slot", slot, "error", err)
		return false
	}
}

// Owned counts the feeds this instance owns under the current member list.
func (n *Node) Owned(feeds []string) int {
	members := n.Members()
	c := 0
	for _, f := range feeds {
		if Owner(members, f) == n.id {
			c++
		}
	}
	return c
}
