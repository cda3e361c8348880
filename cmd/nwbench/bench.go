package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/events"
)

// options are nwbench's flags.
type options struct {
	Feeds, Items, ItemSize int
	Hosts                  int
	Cycles                 int
	Interval               time.Duration
	ParseSample            int
	Hostile                int // hostile feeds served beside the others
	MaxRSS                 int64
	Timeout                time.Duration
	Daemon                 string // prebuilt newswatch binary; "" builds ./cmd/newswatch
	Dir                    string // work dir; "" makes a temporary one and removes it
	Verify                 bool
	Progress               io.Writer
}

// cycle is what one measured phase cost the daemon.
type cycle struct {
	name     string
	window   time.Duration
	requests counts
	cpu      time.Duration
	stored   float64 // articles stored during the window
}

// perPoll is the daemon's CPU per request answered in the window.
func (c cycle) perPoll() time.Duration {
	if c.requests.total() == 0 {
		return 0
	}
	return c.cpu / time.Duration(c.requests.total())
}

// report is everything one run measured.
type report struct {
	opts      options
	parse     parseRates
	coldItems int64
	coldWall  time.Duration
	coldCPU   time.Duration
	// coldMemoryWaits and memoryWaits are the polls held at the daemon's memory gate by the
	// end of the cold ingest and of the run.
	coldMemoryWaits, memoryWaits int64
	cycles                       []cycle
	expected, stored             int64 // articles the server published, and the daemon's count
	retried                      int64 // items the daemon counted as duplicates
	verified                     bool
	verifiedStored               int
	storedTwice                  int
	peakRSS                      int64
	hostileRequests              int64
	metricsBytes                 int
	scrapeWall                   time.Duration
	scrapeCPU                    time.Duration
}

func (r report) ingestRate() float64 { return float64(r.coldItems) / r.coldWall.Seconds() }

// run is one benchmark: parse in-process, then the daemon's cold ingest, 304, unchanged-200
// and one-new-item cycles, /metrics, and (with Verify) a count of what it stored.
func run(ctx context.Context, o options) (rep report, err error) {
	rep.opts = o
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "nwbench: "+format+"\n", args...)
		}
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "nwbench-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
	}
	c := corpus{items: o.Items, itemSize: o.ItemSize}

	say("parsing %d feeds in-process with gofeed and with newswatch's parse and normalize", min(o.Feeds, o.ParseSample))
	if rep.parse, err = measureParse(c, o.Feeds, o.ParseSample); err != nil {
		return rep, err
	}
	bin := o.Daemon
	if bin == "" {
		say("building ./cmd/newswatch")
		if bin, err = buildDaemon(ctx, dir); err != nil {
			return rep, err
		}
	}

	var d atomic.Pointer[daemon]
	type mark struct {
		at  time.Time
		cpu time.Duration
	}
	var start atomic.Pointer[mark]
	srv, err := startFeedServer(c, o.Feeds, o.Hosts, func() {
		m := &mark{at: time.Now()}
		if dd := d.Load(); dd != nil {
			m.cpu, _ = dd.cpu()
		}
		start.Store(m)
	})
	if err != nil {
		return rep, err
	}
	defer srv.close()
	say("writing the feeds' first versions to %s", filepath.Join(dir, "feeds"))
	if err := srv.writeFiles(filepath.Join(dir, "feeds")); err != nil {
		return rep, fmt.Errorf("write the feeds: %w", err)
	}
	urls := srv.urls
	var hostile *hostileServer
	if o.Hostile > 0 {
		say("serving %d hostile feeds", o.Hostile)
		if hostile, err = startHostileServer(o.Hostile); err != nil {
			return rep, err
		}
		defer hostile.close()
		urls = append(slices.Clip(urls), hostile.urls...)
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return rep, err
	}
	cfgPath, dataDir := filepath.Join(dir, "newswatch.yaml"), filepath.Join(dir, "data")
	if err := writeConfig(cfgPath, dataDir, httpAddr, urls, o.Interval); err != nil {
		return rep, err
	}
	logPath := filepath.Join(dir, "newswatch.log")
	dm, err := startDaemon(bin, cfgPath, httpAddr, logPath, o.MaxRSS)
	if err != nil {
		return rep, err
	}
	d.Store(dm)
	defer func() {
		if serr := dm.stop(30 * time.Second); serr != nil && err == nil {
			err = serr
		}
		if err != nil {
			err = fmt.Errorf("%w (daemon log: %s)", err, logPath)
		}
	}()
	if err := dm.waitReady(ctx); err != nil {
		return rep, err
	}

	rep.coldItems = int64(o.Feeds * o.Items)
	say("cold ingest: %d feeds × %d items of ~%d bytes", o.Feeds, o.Items, o.ItemSize)
	// The hostile feeds' articles are stored in the same window; the rate counts the others.
	if err := waitStored(ctx, dm, float64(rep.coldItems+hostileArticles(o.Hostile)), o.Progress); err != nil {
		return rep, err
	}
	end := time.Now()
	endCPU, err := dm.cpu()
	if err != nil {
		return rep, err
	}
	if m := start.Load(); m != nil {
		rep.coldWall, rep.coldCPU = end.Sub(m.at), endCPU-m.cpu
	}
	if s, err := dm.scrape(); err == nil {
		rep.coldMemoryWaits = int64(s.memoryWaits)
	}

	for _, ph := range []struct {
		name string
		m    mode
	}{
		{"CPU per 304 poll", modeConditional},
		{"CPU per unchanged 200 poll", modeIgnoreConditional},
		{"CPU per steady-state poll (1 new item)", modeNewItem},
	} {
		say("%s: %d cycles of %v", ph.name, o.Cycles, o.Interval)
		cy, err := measureCycle(ctx, dm, srv, ph.name, ph.m, time.Duration(o.Cycles)*o.Interval)
		if err != nil {
			return rep, err
		}
		rep.cycles = append(rep.cycles, cy)
	}
	srv.setMode(modeConditional)
	rep.expected = rep.coldItems + srv.newItems() + hostileArticles(o.Hostile)
	say("waiting for the steady-state items to be stored (%d articles in all)", rep.expected)
	if err := waitSettled(ctx, dm, srv, o.Interval); err != nil {
		return rep, err
	}

	if err := measureScrapes(dm, &rep); err != nil {
		return rep, err
	}
	if hostile != nil {
		rep.hostileRequests = hostile.requests.Load()
	}
	rep.peakRSS = dm.peak.Load()
	if _, hwm, err := procMemory(dm.cmd.Process.Pid); err == nil {
		rep.peakRSS = hwm
	}
	last, err := dm.scrape()
	if err != nil {
		return rep, err
	}
	rep.stored, rep.retried = int64(last.published), int64(last.duplicates)
	rep.memoryWaits = int64(last.memoryWaits)
	if err := dm.stop(30 * time.Second); err != nil {
		return rep, err
	}
	if o.Verify {
		say("counting the stored articles in %s", dataDir)
		conn, err := events.Connect(ctx, events.ConnConfig{DataDir: dataDir, Name: "nwbench"}, slog.New(slog.DiscardHandler))
		if err != nil {
			return rep, fmt.Errorf("open the daemon's store: %w", err)
		}
		defer conn.Close()
		if rep.verifiedStored, rep.storedTwice, err = verifyStore(ctx, conn); err != nil {
			return rep, fmt.Errorf("read the daemon's articles: %w", err)
		}
		rep.verified = true
	}
	return rep, nil
}

// waitStored polls /metrics until the daemon has stored want articles.
func waitStored(ctx context.Context, d *daemon, want float64, progress io.Writer) error {
	last := time.Now()
	for {
		if err := d.alive(); err != nil {
			return err
		}
		s, err := d.scrape()
		// A poll whose store answer timed out is retried and finds its articles stored:
		// they count as duplicates, not as published, but they are stored.
		if err == nil && s.published+s.duplicates >= want {
			return nil
		}
		if progress != nil && time.Since(last) > 10*time.Second {
			fmt.Fprintf(progress, "nwbench:   %.0f of %.0f articles stored\n", s.published, want)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%.0f of %.0f articles stored when the run timed out: %w", s.published, want, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitSettled waits until a poll interval passes in which every feed was answered 304 and
// none 200: the daemon advances a feed's validators only once its articles are stored, so
// then every version the server published is stored.
func waitSettled(ctx context.Context, d *daemon, srv *feedServer, interval time.Duration) error {
	for {
		c0 := srv.counts()
		select {
		case <-ctx.Done():
			return fmt.Errorf("the daemon never caught up with the last versions: %w", ctx.Err())
		case <-time.After(interval + interval/5):
		}
		if err := d.alive(); err != nil {
			return err
		}
		if c := srv.counts().sub(c0); c.ok == 0 && c.notModified >= int64(srv.feeds) {
			return nil
		}
	}
}

// measureCycle switches the feed server to m and measures the daemon's CPU and the requests it
// made during window.
func measureCycle(ctx context.Context, d *daemon, srv *feedServer, name string, m mode, window time.Duration) (cycle, error) {
	if err := d.waitCaughtUp(ctx); err != nil {
		return cycle{}, err
	}
	srv.setMode(m)
	before, err := d.scrape()
	if err != nil {
		return cycle{}, err
	}
	req0, cpu0 := srv.counts(), must(d.cpu())
	select {
	case <-ctx.Done():
		return cycle{}, ctx.Err()
	case <-time.After(window):
	}
	req1, cpu1 := srv.counts(), must(d.cpu())
	after, err := d.scrape()
	if err != nil {
		return cycle{}, err
	}
	if err := d.alive(); err != nil {
		return cycle{}, err
	}
	return cycle{name: name, window: window, requests: req1.sub(req0), cpu: cpu1 - cpu0, stored: after.published - before.published}, nil
}

func must(d time.Duration, err error) time.Duration {
	if err != nil {
		return 0
	}
	return d
}

// measureScrapes times ten scrapes of an idle daemon: wall time (median) and its CPU.
func measureScrapes(d *daemon, rep *report) error {
	const n = 10
	cpu0, err := d.cpu()
	if err != nil {
		return err
	}
	var walls []time.Duration
	for range n {
		s, err := d.scrape()
		if err != nil {
			return err
		}
		walls = append(walls, s.took)
		rep.metricsBytes = s.bytes
	}
	cpu1, err := d.cpu()
	if err != nil {
		return err
	}
	slices.Sort(walls)
	rep.scrapeWall, rep.scrapeCPU = walls[n/2], (cpu1-cpu0)/n
	return nil
}

// errIncomplete is returned when the daemon did not store every article exactly once.
var errIncomplete = errors.New("nwbench: the daemon did not store every article exactly once")

// check says whether the run stored what the server published, once each.
func (r report) check() error {
	bad := r.stored > r.expected || r.stored+r.retried < r.expected
	if r.verified {
		bad = int64(r.verifiedStored) != r.expected || r.storedTwice > 0
	}
	if bad {
		return fmt.Errorf("%w: published %d, daemon counted %d new and %d duplicates, stream holds %d (%d twice)",
			errIncomplete, r.expected, r.stored, r.retried, r.verifiedStored, r.storedTwice)
	}
	return nil
}
