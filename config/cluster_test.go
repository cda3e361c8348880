package config

import (
	"strings"
	"testing"
)

func TestClusterKeys(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"valid", `{nats: {url: "nats://a:4222", replicas: 3}, cluster: {enabled: true, instance: nw-1_a, lease_ttl: 10s}}`, ""},
		{"default ttl", `{nats: {url: "nats://a:4222"}, cluster: {enabled: true}}`, ""},
		{"needs a shared NATS", `{cluster: {enabled: true}}`, "cluster.enabled: cluster mode needs a shared NATS cluster"},
		{"ttl too short", `{nats: {url: "nats://a:4222"}, cluster: {enabled: true, lease_ttl: 1s}}`, "cluster.lease_ttl: must be between 2s and 1m"},
		{"bad instance", `{nats: {url: "nats://a:4222"}, cluster: {enabled: true, instance: "a b"}}`, "cluster.instance: \"a b\": use letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "t.yaml")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !c.Cluster.Enabled {
					t.Error("cluster.enabled lost")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
