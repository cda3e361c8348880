package fulltext_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/newswatch/newswatch/feeds/fulltext"
)

// TestExtractionQuality measures Extract against the expected output of Mozilla's Readability
// test suite, as shipped in the readability module (test-pages/*/source.html and
// expected.html): word-level precision and recall of our text against the expected article's
// text. It needs the module's source in the module cache (go mod download); the numbers are
// logged with -v and a floor is asserted.
func TestExtractionQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement over 134 pages; run without -short")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "codeberg.org/readeck/go-readability/v2").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("readability module source not available (%v): run go mod download", err)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "test-pages", "*", "expected.html"))
	if len(pages) < 30 {
		t.Skipf("only %d test pages in %s", len(pages), dir)
	}
	var f1s []float64
	var sumP, sumR float64
	failed := 0
	for _, exp := range pages {
		src, err := os.ReadFile(filepath.Join(filepath.Dir(exp), "source.html"))
		if err != nil {
			continue
		}
		want, err := os.ReadFile(exp)
		if err != nil {
			t.Fatal(err)
		}
		a, err := fulltext.Extract(src, "http://fakehost/test/page.html")
		if err != nil {
			failed++
			f1s = append(f1s, 0)
			continue
		}
		p, r := overlap(strings.Fields(strings.ToLower(a.Text)), strings.Fields(strings.ToLower(visibleText(want))))
		sumP, sumR = sumP+p, sumR+r
		f1 := 0.0
		if p+r > 0 {
			f1 = 2 * p * r / (p + r)
		}
		f1s = append(f1s, f1)
	}
	slices.Sort(f1s)
	n := float64(len(f1s))
	mean := 0.0
	for _, f := range f1s {
		mean += f
	}
	mean /= n
	t.Logf("pages %d, no text %d, mean precision %.3f, mean recall %.3f, F1 mean %.3f, median %.3f, 10th percentile %.3f",
		len(f1s), failed, sumP/(n-float64(failed)), sumR/(n-float64(failed)), mean, f1s[len(f1s)/2], f1s[len(f1s)/10])
	if mean < 0.8 {
		t.Errorf("mean F1 %.3f below 0.8", mean)
	}
}

// overlap is the bag-of-words precision and recall of got against want.
func overlap(got, want []string) (precision, recall float64) {
	if len(got) == 0 || len(want) == 0 {
		return 0, 0
	}
	counts := map[string]int{}
	for _, w := range want {
		counts[w]++
	}
	common := 0
	for _, w := range got {
		if counts[w] > 0 {
			counts[w]--
			common++
		}
	}
	return float64(common) / float64(len(got)), float64(common) / float64(len(want))
}

// visibleText is the text of an HTML fragment.
func visibleText(doc []byte) string {
	var b strings.Builder
	z := html.NewTokenizer(bytes.NewReader(doc))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte(' ')
		}
	}
}
