package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpsComposeCluster checks deploy/compose/cluster.yml: three NATS servers that route to each
// other in one cluster, two newswatch instances with one config in cluster mode on all three.
func TestOpsComposeCluster(t *testing.T) {
	var c composeFile
	if err := yaml.Unmarshal(readDeploy(t, "compose", "cluster.yml"), &c); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("nats-%d", i)
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		cmd := strings.Join(s.Command, " ")
		var routes []string
		for j := 1; j <= 3; j++ {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats://nats-%d:6222", j))
			}
		}
		for _, want := range []string{"--jetstream", "--cluster_name newswatch", "--cluster nats://0.0.0.0:6222", "--routes " + strings.Join(routes, ",")} {
			if !strings.Contains(cmd, want) {
				t.Errorf("%s: command %q lacks %q", name, cmd, want)
			}
		}
	}
	var configs []string
	for _, name := range []string{"newswatch-1", "newswatch-2"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) {
			t.Errorf("%s: want read_only and cap_drop ALL", name)
		}
		for _, v := range s.Volumes {
			host, ctr, _ := strings.Cut(v, ":")
			if _, err := os.Stat(deployPath("compose", host)); err != nil {
				t.Errorf("%s mounts %s, which does not exist: %v", name, host, err)
			}
			if strings.HasPrefix(ctr, "/etc/newswatch/newswatch.yaml") {
				configs = append(configs, host)
			}
		}
	}
	if len(configs) != 2 || configs[0] != configs[1] {
		t.Fatalf("configs %v: want both instances on one config file", configs)
	}
	cfg := parseConfig(t, readDeploy(t, "compose", configs[0]), "compose/"+configs[0])
	if !cfg.Cluster.Enabled || cfg.NATS.Replicas != 3 || cfg.NATS.URL != "nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222" {
		t.Errorf("config: cluster %+v, replicas %d, url %q: want cluster mode on R3 streams of all three servers", cfg.Cluster, cfg.NATS.Replicas, cfg.NATS.URL)
	}
	if cfg.Cluster.Instance != "" {
		t.Error("a fixed cluster.instance in a config two instances share makes them one member")
	}
}
