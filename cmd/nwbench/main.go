// Command nwbench measures newswatch's ingest against the parse ceiling on this machine.
//
// It generates N feeds of M news-like items, serves them on loopback with ETag and
// Last-Modified, parses them in-process with bare gofeed, builds and runs the real daemon on
// them, and prints the daemon's ingest rate, the CPU per new item, per 304 poll, per
// unchanged 200 and per one-new-item poll, its peak RSS and what /metrics costs. With -serve
// it only serves the feeds (and writes their OPML), so another reader such as Miniflux can be
// pointed at the same documents. See docs/benchmarks.md.
package main

import (
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	o := options{Progress: os.Stderr}
	flag.IntVar(&o.Feeds, "feeds", 1000, "feeds to generate")
	flag.IntVar(&o.Items, "items", 20, "items per feed")
	flag.IntVar(&o.ItemSize, "item-size", 22_000, "bytes per item, about (title, summary, HTML content)")
	flag.IntVar(&o.Hosts, "hosts", 100, "loopback addresses (127.0.1.x) to spread the feeds over; the daemon limits requests per host")
	flag.IntVar(&o.Cycles, "cycles", 2, "poll intervals measured in each of the 304, unchanged-200 and steady-state phases")
	flag.DurationVar(&o.Interval, "interval", 30*time.Second, "every feed's schedule (@every INTERVAL)")
	flag.IntVar(&o.ParseSample, "parse-sample", 200, "feeds parsed in-process for the parse ceiling")
	flag.IntVar(&o.Hostile, "hostile", 0, "also serve this many hostile feeds, each on a host of its own (10 MiB of 100,000+ items, a 9 MB title, a 10 MiB HTML page, in turn)")
	maxRSS := flag.Int64("max-rss-mib", 8192, "kill the daemon when its RSS passes this many MiB")
	flag.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.StringVar(&o.Daemon, "daemon", "", "newswatch binary to run (default: go build ./cmd/newswatch)")
	flag.StringVar(&o.Dir, "dir", "", "work directory kept after the run (default: a temporary one, removed)")
	flag.BoolVar(&o.Verify, "verify", true, "after the run, read the daemon's article stream and check each article is stored once")
	serve := flag.Bool("serve", false, "only serve the feeds and write feeds.opml to -dir (or the current directory) until interrupted")
	flag.Parse()
	o.MaxRSS = *maxRSS << 20
	if o.Hostile < 0 || o.Hostile > 250 {
		fmt.Fprintln(os.Stderr, "nwbench: need 0 ≤ -hostile ≤ 250")
		os.Exit(2)
	}
	if o.Feeds < 1 || o.Items < 1 || o.ItemSize < 500 || o.Cycles < 1 || o.Interval < time.Second {
		fmt.Fprintln(os.Stderr, "nwbench: need -feeds ≥ 1, -items ≥ 1, -item-size ≥ 500, -cycles ≥ 1, -interval ≥ 1s")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *serve {
		if err := serveOnly(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "nwbench:", err)
			os.Exit(1)
		}
		return
	}
	rep, err := run(ctx, o)
	if err != nil {
		if rep.coldWall > 0 {
			// What was measured before the failure (a timeout while verifying a big store).
			rep.print(os.Stdout)
		}
		fmt.Fprintln(os.Stderr, "nwbench:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if err := rep.check(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// serveOnly serves the corpus until ctx ends, and writes the feeds' OPML.
func serveOnly(ctx context.Context, o options) error {
	srv, err := startFeedServer(corpus{items: o.Items, itemSize: o.ItemSize}, o.Feeds, o.Hosts, nil)
	if err != nil {
		return err
	}
	defer srv.close()
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	// Files on disk, so a static server (nginx) can serve the very same documents.
	if err := srv.writeFiles(filepath.Join(dir, "feeds")); err != nil {
		return err
	}
	type outline struct {
		Type   string `xml:"type,attr"`
		Text   string `xml:"text,attr"`
		XMLURL string `xml:"xmlUrl,attr"`
	}
	doc := struct {
		XMLName xml.Name  `xml:"opml"`
		Version string    `xml:"version,attr"`
		Title   string    `xml:"head>title"`
		Body    []outline `xml:"body>outline"`
	}{Version: "2.0", Title: "nwbench feeds"}
	for i, u := range srv.urls {
		doc.Body = append(doc.Body, outline{"rss", fmt.Sprintf("Bench Wire %d", i), u})
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "feeds.opml")
	if err := os.WriteFile(path, append([]byte(xml.Header), b...), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "nwbench: serving %d feeds (first: %s); OPML in %s; Ctrl-C stops\n", o.Feeds, srv.urls[0], path)
	<-ctx.Done()
	c := srv.counts()
	fmt.Fprintf(os.Stderr, "nwbench: answered %d requests: %d full, %d not modified\n", c.total(), c.ok, c.notModified)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

// print writes the report as a table.
func (r report) print(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "nwbench: %d feeds × %d items of ~%d bytes on %d loopback hosts, schedule @every %v, %d cycles per phase\n\n",
		o.Feeds, o.Items, o.ItemSize, min(o.Hosts, o.Feeds), o.Interval, o.Cycles)
	p := r.parse
	fmt.Fprintf(w, "%-46s %12.0f items/s  (%d feeds, %.1f MB, all cores, in-process; %s CPU per item)\n",
		"bare gofeed parse", p.gofeed, p.docs, float64(p.sampleBytes)/1e6, ms(p.gofeedCPU))
	fmt.Fprintf(w, "%-46s %12.0f items/s  (%s CPU per item, %s per feed)\n",
		"newswatch parse + normalize, in-process", p.parseNormalize, ms(p.parseNormCPU), ms(p.perFeedParseNorm))
	if o.Hostile > 0 {
		fmt.Fprintf(w, "%-46s %d on %d hosts of their own, beside the %d feeds (%d of 100,000+ items, %d with a 9 MB title, %d 10 MiB HTML pages); %d requests; %d of their articles expected\n",
			"hostile feeds", o.Hostile, o.Hostile, o.Feeds, (o.Hostile+2)/3, (o.Hostile+1)/3, o.Hostile/3, r.hostileRequests, hostileArticles(o.Hostile))
	}
	fmt.Fprintf(w, "%-46s %12.0f items/s  (%d items in %.1f s, first request to last stored)\n", "newswatch daemon cold ingest", r.ingestRate(), r.coldItems, r.coldWall.Seconds())
	fmt.Fprintf(w, "%-46s %11.1f %%\n", "ingest / bare gofeed parse", 100*r.ingestRate()/p.gofeed)
	perItem := r.coldCPU / time.Duration(max(r.coldItems, 1))
	fmt.Fprintf(w, "%-46s %12s  (%.1f× bare gofeed's CPU per item)\n", "CPU per new item (cold)", ms(perItem), float64(perItem)/float64(max(p.gofeedCPU, 1)))
	for _, c := range r.cycles {
		fmt.Fprintf(w, "%-46s %12s  (%d polls: %d × 200, %d × 304; %.0f articles stored in the window; %s CPU in %v)\n",
			c.name, ms(c.perPoll()), c.requests.total(), c.requests.ok, c.requests.notModified, c.stored, ms(c.cpu), c.window)
	}
	if len(r.cycles) == 3 && p.perFeedParseNorm > 0 {
		fmt.Fprintf(w, "%-46s %11.1f %%\n", "steady-state poll CPU / in-process parse+normalize", 100*float64(r.cycles[2].perPoll())/float64(p.perFeedParseNorm))
	}
	fmt.Fprintf(w, "%-46s %8.0f MiB\n", "peak RSS (VmHWM)", float64(r.peakRSS)/(1<<20))
	fmt.Fprintf(w, "%-46s %8d      (%d in the cold ingest; ingest.max_live_heap)\n", "polls held at the memory gate", r.memoryWaits, r.coldMemoryWaits)
	fmt.Fprintf(w, "%-46s %8.1f KB, %s wall, %s daemon CPU (idle, median of 10)\n", "/metrics", float64(r.metricsBytes)/1000, ms(r.scrapeWall), ms(r.scrapeCPU))
	stored := fmt.Sprintf("%d of %d published by the daemon's count (plus %d items it counted as duplicates: known items of changed documents, and polls retried after a store timeout)",
		r.stored, r.expected, r.retried)
	if r.verified {
		stored += fmt.Sprintf("; article stream holds %d, %d stored twice", r.verifiedStored, r.storedTwice)
	}
	fmt.Fprintf(w, "%-46s %s\n", "articles stored", stored)
}
