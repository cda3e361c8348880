package normalize

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newswatch/newswatch/feeds/parse"
)

// corpusDocs returns the path of every document in testdata: feeds of every kind, broken
// ones, and the JSON goldens and other files that are no feed at all. Licences, READMEs and
// the test's own expectation files are left out.
func corpusDocs(tb testing.TB) []string {
	tb.Helper()
	var paths []string
	err := filepath.WalkDir(testdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".md", ".txt", ".tsv", ".jsonl":
			return nil
		}
		if d.Name() == "LICENSE" {
			return nil
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil || len(paths) < 1900 {
		tb.Fatalf("corpus: %d documents, %v", len(paths), err)
	}
	return paths
}

// TestCorpusParses runs every document in testdata, whole and cut in half, through Parse
// and Article, as a poll would: none may panic, hang, or allocate more than a bounded
// multiple of its size.
func TestCorpusParses(t *testing.T) {
	paths := corpusDocs(t)
	var current atomic.Value // the document being parsed, for the hang report
	done := make(chan struct{})
	var failures []string
	go func() {
		defer close(done)
		var before, after runtime.MemStats
		for _, path := range paths {
			body, err := os.ReadFile(path)
			if err != nil {
				failures = append(failures, err.Error())
				continue
			}
			for _, doc := range [][]byte{body, body[:len(body)/2]} {
				current.Store(fmt.Sprintf("%s (%d bytes)", path, len(doc)))
				runtime.ReadMemStats(&before)
				if err := parseAndNormalize(doc); err != nil {
					failures = append(failures, fmt.Sprintf("%s (%d bytes): %v", path, len(doc), err))
				}
				runtime.ReadMemStats(&after)
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20+500*uint64(len(doc)) {
					failures = append(failures, fmt.Sprintf("%s (%d bytes): allocated %d KB", path, len(doc), alloc>>10))
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("parsing the corpus did not finish in 2 minutes; stuck at %v", current.Load())
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d documents parsed whole and halved", len(paths))
}

// parseAndNormalize parses doc and normalizes its items, turning a panic into an error.
func parseAndNormalize(doc []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	f, err := parse.Parse(doc, "", "https://news.example.com/feed.xml")
	if err != nil {
		if !strings.HasPrefix(err.Error(), "parse: ") {
			return fmt.Errorf("error without the parse: prefix: %w", err)
		}
		return nil
	}
	for _, it := range f.Items {
		_, _ = Article("corpus", f.Language, it, time.Date(2024, 7, 20, 12, 0, 0, 0, time.UTC))
	}
	return nil
}
