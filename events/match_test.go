package events_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/newswatch/newswatch/events"
)

// The view with matched terms decodes what the full event and the slim view decode, for
// every schema version ever written.
func TestParseMatchTermsView(t *testing.T) {
	b, err := os.ReadFile("testdata/schema/v1/match.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := events.ParseMatch(b)
	if err != nil {
		t.Fatal(err)
	}
	slim, err := events.ParseMatchView(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := events.ParseMatchTermsView(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.MatchView != slim || !reflect.DeepEqual(v.Matched, m.Matched) || len(v.Matched) == 0 {
		t.Errorf("got %+v\nwant %+v with %+v", v, slim, m.Matched)
	}
	if _, err := events.ParseMatchTermsView([]byte(`{"type":"newswatch.article","id":"x","schemaversion":1,"data":{}}`)); err == nil {
		t.Error("an article event parsed as a match")
	}
}

// BenchmarkParseMatchViews compares the two read-model views: summaries decode the slim
// one, stories the one with matched terms.
func BenchmarkParseMatchViews(b *testing.B) {
	out := benchMatch(b)
	b.Run("MatchView", func(b *testing.B) {
		b.SetBytes(int64(len(out.Data)))
		for b.Loop() {
			if _, err := events.ParseMatchView(out.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MatchTermsView", func(b *testing.B) {
		b.SetBytes(int64(len(out.Data)))
		for b.Loop() {
			if _, err := events.ParseMatchTermsView(out.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
