package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds/websub"
)

// In cluster mode one instance subscribes for each feed (its owner), and the callback, reached
// through a load balancer that alternates between the instances, verifies and stores pushes
// on either.
func TestWebSubCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	nc := startNATSCluster(t)
	hub := newTestHub(t, 3600)
	proxy := newPublicProxy(t)
	fs := newFeedServer(t)
	var feedYAML strings.Builder
	var ids, topics []string
	for i := range 6 {
		id := fmt.Sprintf("hubbed-%d", i)
		topic := fmt.Sprintf("%s/%s.xml", fs.srv.URL, id)
		fs.set("/"+id+".xml", hubRSS(hub.srv.URL+"/", topic, item{"Polled " + id, "https://news.example/" + id, "Polled."}))
		fmt.Fprintf(&feedYAML, "  - {id: %s, url: \"%s\", schedule: \"@every 1h\"}\n", id, topic)
		ids, topics = append(ids, id), append(topics, topic)
	}
	cfg := func(name string) *config.Config {
		y := fmt.Sprintf(`
data_dir: %s
nats: {url: "%s", replicas: 3}
http: {listen: "127.0.0.1:0"}
fetch: {allow_networks: ["127.0.0.1/32"], timeout: 5s}
log: {level: warn}
cluster: {enabled: true, instance: %s}
websub: {callback_base_url: "%s"}
feeds:
%s`, t.TempDir(), nc.URL(), name, proxy.srv.URL, feedYAML.String())
		c, err := config.Parse([]byte(y), "cluster.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := startMember(t, cfg("a")), startMember(t, cfg("b"))
	defer a.stop()
	defer b.stop()
	proxy.target.Store(a.app.HTTPAddr() + "," + b.app.HTTPAddr())

	waitUntil(t, "every feed's subscription to be verified", 60*time.Second, func() bool {
		for _, topic := range topics {
			if sub, _ := hub.subscription(topic); sub == nil {
				return false
			}
		}
		return true
	})
	requests := func(m *member) float64 {
		return (&running{reg: m.app.deps.Registry}).metric(t, "newswatch_websub_subscribe_requests_total", map[string]string{"reason": "new"})
	}
	if n := hub.requestCount(); n != len(topics) {
		t.Errorf("the hub got %d subscription requests for %d feeds, want one each", n, len(topics))
	}
	if ra, rb := requests(a), requests(b); ra+rb != float64(len(topics)) {
		t.Errorf("instances sent %v + %v subscription requests, want %d in all", ra, rb, len(topics))
	}

	// Pushes arrive at either instance (the proxy alternates) and are stored once.
	for i, topic := range topics {
		title := "Pushed " + ids[i]
		body := []byte(hubRSS(hub.srv.URL+"/", topic, item{title, "https://news.example/pushed/" + ids[i], "Pushed."}))
		for range 2 {
			if code := hub.publish(t, topic, body, func(s []byte) string { return websub.Sign("sha256", s, body) }); code != http.StatusNoContent {
				t.Fatalf("push for %s answered %d", ids[i], code)
			}
		}
	}
	ra := &running{app: a.app, reg: a.app.deps.Registry}
	rb := &running{app: b.app, reg: b.app.deps.Registry}
	okA := ra.metric(t, "newswatch_websub_pushes_total", map[string]string{"result": "ok"})
	okB := rb.metric(t, "newswatch_websub_pushes_total", map[string]string{"result": "ok"})
	if okA == 0 || okB == 0 || okA+okB != float64(2*len(topics)) {
		t.Errorf("pushes stored by a: %v, by b: %v; want both to take some, %d in all", okA, okB, 2*len(topics))
	}
	for _, id := range ids {
		if n := titled(ra, t, "Pushed "+id); n != 1 {
			t.Errorf("pushed article of %s stored %d times", id, n)
		}
	}
}
