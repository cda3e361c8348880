package events_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/events"
)

// blockFiles returns the sizes of a stream's block files under the store dir.
func blockFiles(t *testing.T, dir, stream string) []int64 {
	t.Helper()
	var sizes []int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".blk") && strings.Contains(path, string(os.PathSeparator)+stream+string(os.PathSeparator)+"msgs") {
			info, err := d.Info()
			if err != nil {
				return err
			}
			sizes = append(sizes, info.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sizes
}

// TestStreamBlocksAreSmall: every block cache of the embedded server (the article stream's
// write cache, each lagging reader's) is a buffer of the stream's block size. The article and
// poll streams get 4 MiB blocks, not the 8 MiB the server gives a limits stream without
// limits, through their max_msgs_per_subject (events.unlimitedPerSubject); a store created
// before gets them once the config is updated and the server restarts. A nats-server upgrade
// that changes how it picks block sizes fails here.
func TestStreamBlocksAreSmall(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	ctx := t.Context()
	st, err := c.JS.Stream(ctx, events.ArticleStream)
	if err != nil {
		t.Fatal(err)
	}
	// A store of the old config: no per-subject limit.
	cfg := st.CachedInfo().Config
	if cfg.MaxMsgsPerSubject <= 1<<40 {
		t.Fatalf("article stream max_msgs_per_subject = %d, want a limit no subject reaches", cfg.MaxMsgsPerSubject)
	}
	cfg.MaxMsgsPerSubject = -1
	if _, err := c.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = connect(t, dir) // EnsureStreams sets the limit again; the restart after it takes effect
	c.Close()
	c = connect(t, dir)
	defer c.Close()
	store := events.NewStore(c)
	body := strings.Repeat("word ", 20_000) // 100 KB articles: 12 MB in all
	var group events.ArticleGroup
	group.FeedID = "big"
	for n := range 120 {
		a := article("big", n)
		a.Content = body
		group.Articles = append(group.Articles, a)
	}
	res := store.PublishArticleGroups(ctx, []events.ArticleGroup{group})
	if res[0].Err != nil || len(res[0].Published) != 120 {
		t.Fatalf("published %d, err %v", len(res[0].Published), res[0].Err)
	}
	sizes := blockFiles(t, dir, events.ArticleStream)
	var total int64
	for _, s := range sizes {
		total += s
		if s > 4<<20+200<<10 {
			t.Errorf("article stream block of %d bytes, want at most 4 MiB (and a message)", s)
		}
	}
	if total < 12_000_000 || len(sizes) < 3 {
		t.Errorf("%d block files, %d bytes: want the 12 MB of articles in at least three blocks", len(sizes), total)
	}
	if got := streamMsgs(t, c, events.ArticleSubjectPrefix+"big"); got != 120 {
		t.Errorf("stream holds %d articles of the feed, want 120", got)
	}
}
