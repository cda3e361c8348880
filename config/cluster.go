package config

import "time"

// Cluster runs this instance as one of several identical instances on one NATS cluster
// (docs/scaling.md): feeds are shared out and each single-writer role runs on one instance
// at a time, moving to another when it dies.
type Cluster struct {
	Enabled bool `yaml:"enabled"`
	// Instance names this instance among the others; empty: hostname and process id.
	Instance string `yaml:"instance"`
	// LeaseTTL is how long a silent instance keeps its roles and feeds; 0: 6s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

func (v *validator) cluster() {
	c := v.c.Cluster
	if c.Enabled && v.c.NATS.URL == "" {
		v.errorf("cluster.enabled", "cluster mode needs a shared NATS cluster: set nats.url (and nats.replicas: 3)")
	}
	if c.LeaseTTL != 0 && c.LeaseTTL < 2*time.Second || c.LeaseTTL > time.Minute {
		v.errorf("cluster.lease_ttl", "must be between 2s and 1m, got %s", c.LeaseTTL)
	}
	if len(c.Instance) > maxIDLen {
		v.errorf("cluster.instance", "at most %d characters, got %d", maxIDLen, len(c.Instance))
	}
	for _, r := range c.Instance {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			v.errorf("cluster.instance", "%q: use letters, digits, - and _", c.Instance)
			break
		}
	}
}
