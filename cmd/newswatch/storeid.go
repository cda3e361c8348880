package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
)

// isBuiltin reports whether cfg is the built-in default (no --config, no NEWSWATCH_CONFIG).
func isBuiltin(cfg *config.Config) bool { return cfg.File() == config.BuiltinFile }

// configName names the config for messages: its absolute path, or the built-in default.
func configName(cfg *config.Config) string {
	if isBuiltin(cfg) {
		return "the built-in default config (no --config or NEWSWATCH_CONFIG)"
	}
	if abs, err := filepath.Abs(cfg.File()); err == nil {
		return abs
	}
	return cfg.File()
}

// storeIdentity is the identity cfg gives a store it is the first to use.
func storeIdentity(cfg *config.Config, now func() time.Time) events.StoreIdentity {
	id := events.StoreIdentity{Builtin: isBuiltin(cfg), Created: now().UTC()}
	if !id.Builtin {
		id.Config = configName(cfg)
	}
	for _, f := range cfg.Feeds {
		id.Feeds = append(id.Feeds, f.ID)
	}
	for _, t := range cfg.Topics {
		id.Topics = append(id.Topics, t.ID)
	}
	slices.Sort(id.Feeds)
	slices.Sort(id.Topics)
	return id
}

// announceStore tells the user of a tool which config and which store it acts on, and returns
// the identity on record for the store (this config's when it is the first to use it).
func announceStore(ctx context.Context, conn *events.Conn, cfg *config.Config, tool string, stderr io.Writer) (events.StoreIdentity, error) {
	fmt.Fprintf(stderr, "%s: config %s\n", tool, configName(cfg))
	id, err := conn.ClaimIdentity(ctx, storeIdentity(cfg, time.Now))
	if err != nil {
		return id, err
	}
	fmt.Fprintf(stderr, "%s: store %s, created by %s\n", tool, conn.Where(), id)
	return id, nil
}

// errForeignStore refuses to append events with the built-in default config to a store that
// another config created: a tool run without --config reaches whatever listens on
// 127.0.0.1:4222, and events cannot be deleted from the log.
func errForeignStore(cfg *config.Config, id events.StoreIdentity, tool string) error {
	if !isBuiltin(cfg) || id.Builtin {
		return nil
	}
	return fmt.Errorf("%s: refusing to append events: this store was created by %s, and no --config was given, so the built-in default config would write its own topics' events into it; "+
		"pass --config %s (or set NEWSWATCH_CONFIG), or add --force-store to append with the built-in default anyway", tool, id, id.Config)
}
