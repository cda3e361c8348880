package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/normalize"
	"github.com/newswatch/newswatch/feeds/parse"
)

// parseRates is what parsing the corpus in-process costs, on every core.
type parseRates struct {
	docs, items      int
	gofeed           float64       // items/s, bare gofeed.Parser.Parse
	parseNormalize   float64       // items/s, newswatch's parse.Parse and normalize.Article
	gofeedCPU        time.Duration // CPU per item, bare gofeed
	parseNormCPU     time.Duration // CPU per item, newswatch's parse and normalize
	perFeedParseNorm time.Duration // CPU per feed, newswatch's parse and normalize
	sampleBytes      int64
}

// measureParse parses the first sample feeds (first version) with gofeed alone, then with
// newswatch's own parse and normalize stages, on runtime.GOMAXPROCS workers.
func measureParse(c corpus, feeds, sample int) (parseRates, error) {
	sample = max(1, min(sample, feeds))
	docs := make([][]byte, sample)
	r := parseRates{docs: sample}
	for i := range docs {
		docs[i] = c.doc(i, 0)
		r.sampleBytes += int64(len(docs[i]))
	}
	// One untimed pass warms the parser's code paths and the heap.
	if _, err := gofeed.NewParser().Parse(bytes.NewReader(docs[0])); err != nil {
		return r, fmt.Errorf("gofeed: %w", err)
	}
	cpu0 := selfCPU()
	items, took, err := parallel(docs, func(i int, d []byte) (int, error) {
		f, err := gofeed.NewParser().Parse(bytes.NewReader(d))
		if err != nil {
			return 0, err
		}
		return len(f.Items), nil
	})
	if err != nil {
		return r, fmt.Errorf("gofeed: %w", err)
	}
	r.items = items
	r.gofeed = float64(items) / took.Seconds()
	cpu1 := selfCPU()
	r.gofeedCPU = (cpu1 - cpu0) / time.Duration(items)
	now := time.Now()
	items, took, err = parallel(docs, func(i int, d []byte) (int, error) {
		f, err := parse.Parse(d, "application/rss+xml", "http://127.0.0.1/feeds/x.xml")
		if err != nil {
			return 0, err
		}
		n := 0
		for _, it := range f.Items {
			if _, err := normalize.Article(fmt.Sprintf("bench-%05d", i), f.Language, it, now); err == nil {
				n++
			}
		}
		return n, nil
	})
	if err != nil {
		return r, fmt.Errorf("newswatch parse: %w", err)
	}
	if items != r.items {
		return r, fmt.Errorf("newswatch parse and normalize kept %d of %d items", items, r.items)
	}
	r.parseNormalize = float64(items) / took.Seconds()
	cpu2 := selfCPU()
	r.parseNormCPU = (cpu2 - cpu1) / time.Duration(items)
	r.perFeedParseNorm = (cpu2 - cpu1) / time.Duration(sample)
	return r, nil
}

// selfCPU is this process's user plus system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parallel runs fn over docs on GOMAXPROCS workers and returns the items it counted and the
// wall time.
func parallel(docs [][]byte, fn func(int, []byte) (int, error)) (int, time.Duration, error) {
	var next, total atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(docs) {
					return
				}
				n, err := fn(i, docs[i])
				if err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
				total.Add(int64(n))
			}
		})
	}
	wg.Wait()
	return int(total.Load()), time.Since(start), first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// verifyStore reads the article stream of a stopped daemon's data dir and counts the articles
// and the ids stored more than once.
func verifyStore(ctx context.Context, conn *events.Conn) (articles, twice int, err error) {
	seen := map[string]bool{}
	err = conn.Read(ctx, events.ArticleStream, []string{events.ArticleSubjectPrefix + ">"}, 0, func(data []byte, _ uint64) error {
		a, err := events.ParseArticle(data)
		if err != nil {
			return err
		}
		articles++
		if seen[a.ID] {
			twice++
		}
		seen[a.ID] = true
		return nil
	})
	return articles, twice, err
}
