package web

import (
	"html/template"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/topics"
)

func TestHighlight(t *testing.T) {
	tests := []struct {
		name, text string
		terms      []topics.MatchedTerm
		want       template.HTML
	}{
		{"word, case and accents folded", "Pyongyang and PYŎNGYANG", []topics.MatchedTerm{{Term: "pyongyang"}},
			"<mark>Pyongyang</mark> and <mark>PYŎNGYANG</mark>"},
		{"phrase words", "North Korea's envoy", []topics.MatchedTerm{{Term: "North Korea"}}, "<mark>North</mark> <mark>Korea</mark>&#39;s envoy"},
		{"prefix", "sanatoriums & sanatorium, not sana", []topics.MatchedTerm{{Term: "sanatorium*"}},
			"<mark>sanatoriums</mark> &amp; <mark>sanatorium</mark>, not sana"},
		{"a term inside a longer word is not marked", "paratroops and troops", []topics.MatchedTerm{{Term: "troops"}},
			"paratroops and <mark>troops</mark>"},
		{"no terms: escaped", "<b>x</b>", nil, "&lt;b&gt;x&lt;/b&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := highlight(tt.text, tt.terms); got != tt.want {
				t.Errorf("highlight(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestSparklineFlatStretches(t *testing.T) {
	counts := make([]int, 48)
	usual := make([]float64, 48)
	counts[47] = 4
	got := string(sparkline(counts, usual, "label"))
	if !strings.Contains(got, `d="M0 25h92L94 1"`) || !strings.Contains(got, `d="M0 25h94"`) {
		t.Errorf("sparkline paths: %s", got)
	}
}
