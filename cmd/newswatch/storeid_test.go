package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
)

// A tool run without --config reaches whatever store listens on the default address. It says
// which config and which store it acts on, and refuses to append the built-in default's
// matches to a store that another config created, unless told to with --force-store.
func TestToolsNameTheStoreAndRefuseAForeignOne(t *testing.T) {
	fs := newFeedServer(t)
	seedFeeds(fs)
	dataDir, natsAddr := t.TempDir(), freePort(t)
	storms := "topics:\n  - {id: storms, name: Storms, query: 'storm*'}\n"
	cfg, path := replayConfig(t, dataDir, fs.srv.URL, natsAddr, storms)
	r := startApp(t, cfg)
	r.waitPolled(t, 1, "wire", "paper", "blog")
	r.waitCount(t, "storms", 2)
	matches := func() uint64 {
		t.Helper()
		st, err := r.app.conn.StreamInfo(t.Context(), events.MatchStream)
		if err != nil {
			t.Fatal(err)
		}
		return st.Msgs
	}
	before := matches()
	abs, _ := filepath.Abs(path)

	// The built-in default config, pointed (as it would be on 127.0.0.1:4222) at this store.
	builtin := config.Default()
	builtin.DataDir, builtin.NATS.Listen, builtin.HTTP.Listen = t.TempDir(), natsAddr, ""
	var out, errb bytes.Buffer
	code := runReplay(t.Context(), builtin, replayFlags{projection: "matches"}, events.Range{}, &out, &errb)
	stderr := errb.String()
	if code != exitUsage {
		t.Fatalf("replay matches with the built-in default on a foreign store: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"newswatch replay: config the built-in default config",
		"newswatch replay: store NATS server nats://" + natsAddr + ", created by " + abs + " (3 feeds, 1 topics; streams created ",
		"refusing to append events",
		"pass --config " + abs,
		"--force-store",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := matches(); n != before {
		t.Fatalf("the refused replay appended %d matches", n-before)
	}

	// Reading is allowed, and says where it reads.
	code, _, stderr = run(t, "export", "--config", path, "--subject", "newswatch.matches.*")
	if code != exitOK || !strings.Contains(stderr, "newswatch export: config "+abs) ||
		!strings.Contains(stderr, "newswatch export: store NATS server nats://"+natsAddr+", created by "+abs) {
		t.Errorf("export: exit %d\n%s", code, stderr)
	}

	// Forced, the default topic's history is backfilled into this store.
	errb.Reset()
	code = runReplay(t.Context(), builtin, replayFlags{projection: "matches", forceStore: true}, events.Range{}, &out, &errb)
	if code != exitOK {
		t.Fatalf("forced replay: exit %d\n%s", code, errb.String())
	}
	if matches() <= before {
		t.Errorf("the forced replay appended nothing (%d matches)", matches())
	}
}
