package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/alertlog"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/newswatch/newswatch/projections/summaries"
)

// rebuildable are the projections `replay` can rebuild, with their input.
var rebuildable = map[string]struct {
	stream  string
	subject string
	make    func() events.Projection
}{
	feedhealth.Name: {events.PollStream, events.PollSubjectPrefix + "*", func() events.Projection { return feedhealth.New() }},
	summaries.Name:  {events.MatchStream, events.MatchSubjectPrefix + "*", func() events.Projection { return summaries.New() }},
	alertlog.Name:   {events.AlertStream, events.AlertSubjectPrefix + "*", func() events.Projection { return alertlog.New() }},
	stories.Name:    {events.MatchStream, events.MatchSubjectPrefix + "*", func() events.Projection { return stories.New() }},
}

// projectionNames lists what --projection accepts; "topics" is short for topic_summaries.
func projectionNames() []string {
	names := []string{"matches", "alerts"}
	for n := range rebuildable {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

type replayFlags struct {
	config, projection, from, to, topic string
	dryRun, asJSON, forceStore          bool
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f replayFlags
	fs := newFlags("replay", "replay --projection NAME [--config FILE] [--from RFC3339|SEQ] [--to RFC3339|SEQ] [--topic ID] [--dry-run] [--json]", stderr)
	fs.StringVar(&f.config, "config", "", "config file (default $NEWSWATCH_CONFIG, else the built-in default)")
	fs.StringVar(&f.projection, "projection", "", fmt.Sprintf("what to rebuild: %v (topics = topic_summaries)", projectionNames()))
	fs.StringVar(&f.from, "from", "", "first event: stream sequence or RFC 3339 time")
	fs.StringVar(&f.to, "to", "", "last event: stream sequence or RFC 3339 time")
	fs.StringVar(&f.topic, "topic", "", "matches: backfill only this topic (default: every topic)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "alerts: list the alerts the current rules would have fired; deliver nothing")
	fs.BoolVar(&f.asJSON, "json", false, "alerts --dry-run: print JSON")
	fs.BoolVar(&f.forceStore, "force-store", false, "matches: append even when the built-in default config meets a store another config created")
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	if f.projection == "topics" {
		f.projection = summaries.Name
	}
	if !slices.Contains(projectionNames(), f.projection) {
		fmt.Fprintf(stderr, "newswatch replay: --projection must be one of %v\n", projectionNames())
		return exitUsage
	}
	if f.projection == "alerts" && !f.dryRun {
		fmt.Fprintln(stderr, "newswatch replay: alerts can only be replayed as a backtest: add --dry-run (fired alerts are never re-sent)")
		return exitUsage
	}
	var r events.Range
	var err error
	if r.FromSeq, r.FromTime, err = events.ParseBound(f.from); err == nil {
		r.ToSeq, r.ToTime, err = events.ParseBound(f.to)
	}
	if err != nil {
		fmt.Fprintln(stderr, "newswatch replay:", err)
		return exitUsage
	}
	cfg, err := loadConfig(f.config, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	return runReplay(ctx, cfg, f, r, stdout, stderr)
}

// runReplay is replay once its flags and config are read.
func runReplay(ctx context.Context, cfg *config.Config, f replayFlags, r events.Range, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	conn, err := connectTool(ctx, cfg, "newswatch replay")
	if err != nil {
		fmt.Fprintln(stderr, "newswatch replay:", err)
		return exitRuntime
	}
	defer conn.Close()
	id, err := announceStore(ctx, conn, cfg, "newswatch replay", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "newswatch replay:", err)
		return exitRuntime
	}
	if f.projection == "matches" && !f.forceStore {
		if err := errForeignStore(cfg, id, "newswatch replay"); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
	}
	progress := newProgress(stderr)
	var st events.ReplayStats
	switch f.projection {
	case "matches":
		st, err = backfillMatches(ctx, conn, cfg, f.topic, r, progress.report)
	case "alerts":
		st, err = backtestAlerts(ctx, conn, cfg, r, progress.report, stdout, f.asJSON)
	default:
		p := rebuildable[f.projection]
		st, err = conn.Rebuild(ctx, p.make(), p.stream, []string{p.subject}, r, progress.report)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "newswatch replay: interrupted; the live projection is unchanged")
		} else {
			fmt.Fprintln(stderr, "newswatch replay:", err)
		}
		return exitRuntime
	}
	finalLine(stderr, "replay "+f.projection, st)
	return exitOK
}
