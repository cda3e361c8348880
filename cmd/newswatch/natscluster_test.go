package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsCluster is a 3-node JetStream cluster on loopback whose servers a test can stop and
// start again with the same ports and storage.
type natsCluster struct {
	t       testing.TB
	opts    []*server.Options
	servers []*server.Server
}

// portBelowEphemeral finds a free loopback port outside the ephemeral range, so that a
// stopped server's port is not taken by some client socket before it restarts.
func portBelowEphemeral(t testing.TB, taken map[int]bool) int {
	t.Helper()
	for range 1000 {
		p := 20000 + rand.IntN(12000)
		if taken[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		taken[p] = true
		return p
	}
	t.Fatal("no free port")
	return 0
}

func startNATSCluster(t testing.TB) *natsCluster {
	t.Helper()
	taken := map[int]bool{}
	c := &natsCluster{t: t}
	var routes []string
	clientPorts, routePorts := make([]int, 3), make([]int, 3)
	for i := range 3 {
		clientPorts[i], routePorts[i] = portBelowEphemeral(t, taken), portBelowEphemeral(t, taken)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", routePorts[i]))
	}
	for i := range 3 {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: clientPorts[i],
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true, MaxPayload: 8 << 20,
			Cluster: server.ClusterOpts{Name: "newswatch-test", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		c.opts = append(c.opts, o)
		c.servers = append(c.servers, nil)
	}
	for i := range 3 {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.servers {
			c.stop(i)
		}
	})
	c.waitMetaLeader()
	return c
}

func (c *natsCluster) start(i int) {
	c.t.Helper()
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		c.t.Fatalf("NATS %s did not start", o.ServerName)
	}
	c.servers[i] = s
}

func (c *natsCluster) stop(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// URL is the comma-separated client URL list, as nats.url takes it.
func (c *natsCluster) URL() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

func (c *natsCluster) client() (*nats.Conn, jetstream.JetStream) {
	c.t.Helper()
	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1))
	if err != nil {
		c.t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatal(err)
	}
	return nc, js
}

func (c *natsCluster) waitMetaLeader() {
	c.t.Helper()
	nc, js := c.client()
	defer nc.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(c.t.Context(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no JetStream meta leader: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// streamLeader is the index of the server leading the stream.
func (c *natsCluster) streamLeader(stream string) int {
	c.t.Helper()
	nc, js := c.client()
	defer nc.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(c.t.Context(), 2*time.Second)
		st, err := js.Stream(ctx, stream)
		cancel()
		if err == nil && st.CachedInfo().Cluster != nil {
			for i, o := range c.opts {
				if o.ServerName == st.CachedInfo().Cluster.Leader {
					return i
				}
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("stream %s has no leader: %v", stream, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
