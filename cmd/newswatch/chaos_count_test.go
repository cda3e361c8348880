package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
)

// TestClusterChaos runs three instances on a 3-node NATS cluster while feeds gain items, then
// kills one like kill -9, stops the articles stream's leader, restarts both, adds a fourth
// instance and stops another, and counts what was lost or doubled.
func TestClusterChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test: minutes")
	}
	nc := startNATSCluster(t)
	feeds := newGrowingFeeds(t, 4, 2, 1500*time.Millisecond)
	defer func() {
		select {
		case <-feeds.stop:
		default:
			feeds.halt()
		}
	}()
	hook := newHookReceiver(t)
	cfg := func(name string) *config.Config { return chaosConfig(t, nc.URL(), name, feeds, hook) }
	live := []*member{startMember(t, cfg("a")), startMember(t, cfg("b")), startMember(t, cfg("c"))}
	defer func() {
		for _, m := range live {
			m.stop()
		}
	}()
	waitTakeover(t, live, time.Now(), "start")
	waitUntil(t, "a first alert delivered", 180*time.Second, func() bool { return len(hook.alerts()) > 0 })

	// Every instance serves the API; a standby is ready.
	for _, m := range live {
		if !m.app.holds(roleMatcher) {
			last := ""
			waitUntil(t, "standby "+m.name+" ready", 120*time.Second, func() bool {
				err := m.app.ready(t.Context())
				if err != nil && err.Error() != last {
					last = err.Error()
					t.Logf("standby %s not ready yet: %v", m.name, err)
				}
				return err == nil && readyStatus(t, m.app.HTTPAddr()) == http.StatusOK
			})
		}
	}

	// kill -9 the instance holding the most roles.
	victim := 0
	for i, m := range live {
		if countHeld(m) > countHeld(live[victim]) {
			victim = i
		}
	}
	dead := live[victim]
	live = slices.Delete(live, victim, victim+1)
	t.Logf("killing %s, which holds %d roles", dead.name, countHeld(dead))
	killedAt := time.Now()
	dead.kill()
	failover := waitTakeover(t, live, killedAt, "after kill -9 of "+dead.name)
	for r, d := range failover {
		if d > 15*time.Second {
			t.Errorf("role %s took %s to fail over; the goal is 10s (lease_ttl 6s)", r, d)
		}
	}

	// Stop the articles stream's leader while ingest goes on, then bring it back.
	leader := nc.streamLeader(events.ArticleStream)
	t.Logf("stopping NATS server %s (articles stream leader)", nc.opts[leader].ServerName)
	nc.stop(leader)
	time.Sleep(8 * time.Second)
	nc.start(leader)
	nc.waitMetaLeader()

	// The killed instance comes back, a fourth joins, one leaves gracefully.
	live = append(live, startMember(t, cfg(dead.name)), startMember(t, cfg("d")))
	time.Sleep(5 * time.Second)
	leaving := live[0]
	live = live[1:]
	leftAt := time.Now()
	leaving.stop()
	waitTakeover(t, live, leftAt, "after "+leaving.name+" left gracefully")
	time.Sleep(8 * time.Second)
	feeds.halt()

	reader := live[0].app.conn
	storyOf := func(id string) string { sid, _ := live[0].app.stories.StoryID("kursk", id); return sid }
	var c chaosCount
	for deadline := time.Now().Add(150 * time.Second); ; time.Sleep(time.Second) {
		if c = countChaos(t, reader, storyOf, feeds, hook); c.settled() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not everything published was stored, matched, alerted and delivered within 150s: %+v", c)
		}
	}
	t.Logf("articles %d (lost %d, doubled %d); matches %d (lost %d, doubled %d); match alerts %d (stories lost %d, articles in two alerts %d, folded into an alerted story %d); alerts %d, deliveries lost %d, redelivered with the same key %d; digests %d (periods doubled %d, gaps %d); polls %d, slots polled twice %d; polls by instance %v",
		c.articles, c.lostArticles, c.doubledArticles, c.matches, c.lostMatches, c.doubledMatches,
		c.matchAlerts, c.lostAlerts, c.doubledAlerts, c.folded, c.alerts, c.lostDeliveries, c.redelivered,
		c.digests, c.doubledDigests, c.digestGaps, c.polls, c.doubledSlots, c.pollsBy)
	for what, n := range map[string]int{
		"articles doubled": c.doubledArticles, "matches doubled": c.doubledMatches, "articles in two alerts": c.doubledAlerts,
		"digest periods doubled": c.doubledDigests, "digest gaps": c.digestGaps, "slots polled twice": c.doubledSlots,
		"bad signatures": hook.badSig,
	} {
		if n != 0 {
			t.Errorf("%s: %d, want 0", what, n)
		}
	}
	if len(c.pollsBy) < 3 {
		t.Errorf("polls by instance %v: want the feeds spread over the instances", c.pollsBy)
	}
}

func countHeld(m *member) int {
	n := 0
	for _, r := range chaosRoles {
		if m.app.node.Holds(r) {
			n++
		}
	}
	return n
}

type chaosCount struct {
	articles, lostArticles, doubledArticles int
	matches, lostMatches, doubledMatches    int
	matchAlerts, lostAlerts, doubledAlerts  int
	folded                                  int // articles of an alerted story, not alerted again
	alerts, lostDeliveries, redelivered     int
	digests, doubledDigests, digestGaps     int
	polls, doubledSlots                     int
	pollsBy                                 map[string]int
}

func (c chaosCount) settled() bool {
	return c.lostArticles == 0 && c.lostMatches == 0 && c.lostAlerts == 0 && c.lostDeliveries == 0
}

// countChaos counts what the feeds published against the streams and the receiver. An article
// counts as alerted when it, or another article of its story (as the stories projection of
// storyOf's instance groups them), is in a match alert: the engine folds other outlets'
// articles of an alerted story into it without alerting again.
func countChaos(t *testing.T, conn *events.Conn, storyOf func(string) string, feeds *growingFeeds, hook *hookReceiver) chaosCount {
	t.Helper()
	var c chaosCount
	ctx := t.Context()
	byLink := map[string]int{}
	idOf := map[string]string{}
	_ = conn.Read(ctx, events.ArticleStream, []string{events.ArticleSubjectPrefix + "*"}, 0, func(data []byte, _ uint64) error {
		if a, err := events.ParseArticle(data); err == nil {
			byLink[a.Link]++
			idOf[a.Link] = a.ID
		}
		return nil
	})
	matched := map[string]int{}
	_ = conn.Read(ctx, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, 0, func(data []byte, _ uint64) error {
		if m, err := events.ParseMatch(data); err == nil {
			matched[m.ArticleID]++
		}
		return nil
	})
	inAlerts := map[string]int{}
	alertIDs := map[string]int{}
	var digests []notify.Digest
	_ = conn.ReadAlerts(ctx, time.Time{}, func(data []byte, _, _ uint64) error {
		var a notify.Alert
		if json.Unmarshal(data, &a) != nil {
			return nil
		}
		alertIDs[a.ID]++
		switch a.Kind {
		case notify.KindMatch:
			c.matchAlerts++
			for _, art := range a.Articles {
				inAlerts[art.ID]++
				for _, cp := range art.Copies {
					inAlerts[cp.ID]++
				}
			}
		case notify.KindDigest:
			digests = append(digests, *a.Digest)
		}
		return nil
	})
	alertedStories := map[string]bool{}
	for id := range inAlerts {
		if sid := storyOf(id); sid != "" {
			alertedStories[sid] = true
		}
	}
	for link, matches := range feeds.published() {
		n := byLink[link]
		c.articles += min(n, 1)
		if n == 0 {
			c.lostArticles++
			continue
		}
		c.doubledArticles += n - 1
		id := idOf[link]
		if !matches {
			continue
		}
		c.matches += min(matched[id], 1)
		switch {
		case matched[id] == 0:
			c.lostMatches++
		case inAlerts[id] == 0 && !alertedStories[storyOf(id)]:
			c.lostAlerts++
		case inAlerts[id] == 0:
			c.folded++
		}
		c.doubledMatches += max(matched[id]-1, 0)
		c.doubledAlerts += max(inAlerts[id]-1, 0)
	}
	hook.mu.Lock()
	for id, n := range alertIDs {
		c.alerts++
		c.doubledAlerts += n - 1 // JetStream dedup keeps one per id
		if hook.keys[id] == 0 {
			c.lostDeliveries++
		}
		c.redelivered += max(hook.keys[id]-1, 0)
	}
	hook.mu.Unlock()
	c.digests = len(digests)
	slices.SortFunc(digests, func(a, b notify.Digest) int { return a.Since.Compare(b.Since) })
	for i := 1; i < len(digests); i++ {
		switch {
		case digests[i].Since.Equal(digests[i-1].Since):
			c.doubledDigests++
		case !digests[i].Since.Equal(digests[i-1].Until):
			c.digestGaps++
		}
	}
	c.pollsBy = map[string]int{}
	slots := map[string]int{}
	_ = conn.Read(ctx, events.PollStream, []string{events.PollSubjectPrefix + "*"}, 0, func(data []byte, _ uint64) error {
		p, err := events.ParsePoll(data)
		if err != nil || p.Slot == nil {
			return nil
		}
		c.polls++
		c.pollsBy[p.Instance]++
		k := p.FeedID + "@" + p.Slot.String()
		slots[k]++
		if slots[k] == 2 {
			c.doubledSlots++
		}
		return nil
	})
	return c
}
