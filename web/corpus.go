package web

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/newswatch/newswatch/events"
)

// ArticleLog reads the article stream (*events.Conn).
type ArticleLog interface {
	SeqBefore(ctx context.Context, stream string, subjects []string, t time.Time) (uint64, error)
	Read(ctx context.Context, stream string, subjects []string, from uint64, fn func(data []byte, seq uint64) error) error
}

// Bounds of the recent articles the query tester and search look through: the newest
// maxArticles articles first seen within maxDays, each with at most maxContent bytes of
// content (matching looks at no more of it). Worst case about 20 MB.
const (
	maxDays     = 7
	maxArticles = 5000
	maxContent  = 2 << 10
	// refreshEvery is how stale the corpus may be: each request after it reads only the
	// articles stored since the last one.
	refreshEvery = 2 * time.Second
	readTimeout  = 20 * time.Second
)

// corpus is the recent articles, read from the article stream on demand.
type corpus struct {
	log ArticleLog
	now func() time.Time
	lg  *slog.Logger

	mu        sync.Mutex // one refresh at a time; guards the fields below
	arts      []events.Article
	last      uint64 // stream sequence of the last article read
	started   bool
	refreshed time.Time
}

func newCorpus(log ArticleLog, now func() time.Time, lg *slog.Logger) *corpus {
	return &corpus{log: log, now: now, lg: lg}
}

var articleSubjects = []string{events.ArticleSubjectPrefix + "*"}

// Recent returns the articles first seen in the last days (at most maxDays), in stream order.
func (c *corpus) Recent(ctx context.Context, days int) ([]events.Article, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.started || now.Sub(c.refreshed) >= refreshEvery {
		if err := c.refresh(ctx, now); err != nil {
			return nil, err
		}
	}
	cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
	// Stream order is nearly, not exactly, first-seen order (feeds are polled concurrently).
	out := make([]events.Article, 0, len(c.arts))
	for _, a := range c.arts {
		if !a.FirstSeenAt.Before(cutoff) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (c *corpus) refresh(ctx context.Context, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	cutoff := now.Add(-maxDays * 24 * time.Hour)
	if !c.started {
		seq, err := c.log.SeqBefore(ctx, events.ArticleStream, articleSubjects, cutoff)
		if err != nil {
			return fmt.Errorf("recent articles: %w", err)
		}
		c.last, c.started = seq, true
	}
	err := c.log.Read(ctx, events.ArticleStream, articleSubjects, c.last+1, func(data []byte, seq uint64) error {
		c.last = seq
		a, err := events.ParseArticle(data)
		if err != nil {
			c.lg.Warn("unreadable article event", "component", "web", "stream_seq", seq, "err", err)
			return nil
		}
		if len(a.Content) > maxContent {
			a.Content = a.Content[:maxContent]
		}
		c.arts = append(c.arts, a)
		if len(c.arts) >= 2*maxArticles {
			c.arts = append(c.arts[:0], c.arts[len(c.arts)-maxArticles:]...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recent articles: %w", err)
	}
	drop := max(0, len(c.arts)-maxArticles)
	for drop < len(c.arts) && c.arts[drop].FirstSeenAt.Before(cutoff) {
		drop++
	}
	if drop > 0 {
		c.arts = append(c.arts[:0:0], c.arts[drop:]...)
	}
	c.refreshed = now
	return nil
}

// byID finds recent articles by id.
func (c *corpus) byID(ctx context.Context, ids map[string]bool) map[string]events.Article {
	out := map[string]events.Article{}
	if c == nil || len(ids) == 0 {
		return out
	}
	arts, err := c.Recent(ctx, maxDays)
	if err != nil {
		return out
	}
	for _, a := range arts {
		if ids[a.ID] {
			out[a.ID] = a
		}
	}
	return out
}
