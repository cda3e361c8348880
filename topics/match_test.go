package topics

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// matchOne compiles query as the only topic and matches d.
func matchOne(t *testing.T, query string, d Doc) *Hit {
	t.Helper()
	m, err := Compile([]Topic{{ID: "t", Query: query}})
	if err != nil {
		t.Fatalf("Compile(%q): %v", query, err)
	}
	hits := m.Match(d)
	if len(hits) == 0 {
		return nil
	}
	return &hits[0]
}

func content(s string) Doc { return Doc{Content: s} }

func TestMatchRules(t *testing.T) {
	tests := []struct {
		name  string
		query string
		doc   Doc
		want  bool
	}{
		{"case", `russia`, content("RUSSIA says"), true},
		{"case in query", `RUSSIA`, content("russia says"), true},
		{"whole tokens only", `korea`, content("Korean talks"), false},
		{"diacritics in text", `cafe`, content("Un Café"), true},
		{"diacritics in query", `café`, content("cafe culture"), true},
		{"decomposed accent", `café`, content("Cafe\u0301 culture"), true},
		{"ligature", `fish`, content("ﬁsh market"), true},
		{"fullwidth", `russia`, content("ＲＵＳＳＩＡ"), true},
		{"sharp s", `strasse`, content("Straße"), true},
		{"final sigma", `ΟΔΟΣ`, content("η οδός"), true},
		{"cyrillic case", `Россия`, content("россия и Китай"), true},
		{"cyrillic upper", `россия`, content("РОССИЯ"), true},
		{"yo is ye", `ёлка`, content("Елка"), true},
		{"short i stays", `йод`, content("иод"), false},
		{"short i decomposed", `йод`, content("И\u0306од"), true},
		{"hangul word", `북한`, content("북한 러시아"), true},
		{"hangul particle is part of the token", `북한`, content("북한과 러시아"), false},
		{"hangul prefix", `북한*`, content("북한과 러시아"), true},
		{"hangul decomposed text", `북한`, content("\u1107\u116e\u11a8\u1112\u1161\u11ab"), true},
		{"en dash splits", `dprk AND russia`, content("DPRK–Russia ties"), true},
		{"en dash as phrase", `DPRK–Russia`, content("dprk russia"), true},
		{"apostrophe splits", `russia`, content("Russia's army"), true},
		{"apostrophe s", `russia's`, content("Russia’s army"), true},
		{"lower-case and is a term", `north and south`, content("north and south"), true},
		{"lower-case and is required", `north and south`, content("north, south"), false},
		{"implicit AND", `russia troops`, content("troops of Russia"), true},
		{"implicit AND needs both", `russia troops`, content("Russia"), false},
		{"OR", `russia OR china`, content("China"), true},
		{"A NOT B", `russia NOT sport`, content("Russia sport"), false},
		{"A NOT B without B", `russia NOT sport`, content("Russia war"), true},
		{"NOT alone matches absence", `NOT sport`, content("weather"), true},
		{"NOT alone", `NOT sport`, content("sport"), false},
		{"NOT alone on empty doc", `NOT sport`, Doc{}, true},
		{"prefix", `korea*`, content("Korean"), true},
		{"prefix matches the word itself", `korea*`, content("Korea"), true},
		{"prefix folded", `Café*`, content("cafeteria"), true},
		{"prefix no match", `korea*`, content("kor"), false},
		// Phrases.
		{"phrase", `"north korea"`, content("North Korea"), true},
		{"phrase consecutive only", `"north korea"`, content("north of Korea"), false},
		{"phrase order", `"north korea"`, content("Korea north"), false},
		{"phrase across punctuation", `"north korea"`, content("north. Korea"), true},
		{"phrase in one field", `"north korea"`, Doc{Title: "Going north", Content: "Korea said"}, false},
		{"phrase in summary", `"north korea"`, Doc{Summary: "North Korea"}, true},
		{"phrase repeated word", `"bye bye"`, content("bye now bye bye"), true},
		// NEAR.
		{"NEAR after", `russia NEAR/2 troops`, content("Russia sent troops"), true},
		{"NEAR before", `russia NEAR/2 troops`, content("troops from Russia"), true},
		{"NEAR too far", `russia NEAR/2 troops`, content("Russia has sent its troops"), false},
		{"NEAR exact bound", `russia NEAR/4 troops`, content("Russia has sent its troops"), true},
		{"NEAR/1 is adjacency", `russia NEAR/1 troops`, content("troops Russia"), true},
		{"NEAR/1 not adjacent", `russia NEAR/1 troops`, content("troops, the Russia"), false},
		{"NEAR one field", `russia NEAR/5 troops`, Doc{Title: "Russia", Content: "troops"}, false},
		{"NEAR title scope", `title:russia NEAR/5 troops`, Doc{Title: "Russia troops", Content: "Russia troops"}, true},
		{"NEAR scope respected", `title:russia NEAR/5 troops`, Doc{Title: "Russia", Content: "Russia troops"}, false},
		{"NEAR phrase after", `"north korea" NEAR/2 troops`, content("North Korea sent troops"), true},
		{"NEAR phrase before", `"north korea" NEAR/2 troops`, content("troops from North Korea"), true},
		{"NEAR phrase bound", `"north korea" NEAR/1 troops`, content("troops from North Korea"), false},
		{"NEAR two phrases", `"north korea" NEAR/3 "united states"`, content("United States and North Korea"), true},
		{"NEAR overlap does not count", `korea* NEAR/1 korean`, content("Korean"), false},
		{"NEAR same word twice", `bye NEAR/1 bye`, content("bye bye"), true},
		{"NEAR same word once", `bye NEAR/1 bye`, content("bye"), false},
		{"NEAR OR group", `(russia OR moscow) NEAR/2 troops`, content("troops to Moscow"), true},
		{"NEAR prefix", `troop* NEAR/2 russia*`, content("Russian troopers"), true},
		// Fields.
		{"title scope", `title:russia`, Doc{Title: "Russia"}, true},
		{"title scope misses content", `title:russia`, Doc{Content: "Russia"}, false},
		{"summary scope", `summary:russia`, Doc{Summary: "Russia", Title: "x"}, true},
		{"content scope", `content:russia`, Doc{Summary: "Russia"}, false},
		{"title group", `title:(russia OR china)`, Doc{Title: "China", Content: "Russia"}, true},
		{"title phrase", `title:"north korea"`, Doc{Title: "North Korea"}, true},
		{"unscoped skips url", `ukraine`, Doc{URL: "https://x.test/ukraine"}, false},
		{"unscoped skips source", `bbc`, Doc{Source: "bbc-world"}, false},
		{"url scope", `url:ukraine`, Doc{URL: "https://example.com/world/ukraine-war-2024"}, true},
		{"url percent-encoded", `url:россия`, Doc{URL: "https://ex.test/%D1%80%D0%BE%D1%81%D1%81%D0%B8%D1%8F"}, true},
		{"url bad escape", `url:abc`, Doc{URL: "https://ex.test/abc%zz"}, true},
		{"source id", `source:bbc-world`, Doc{Source: "bbc-world"}, true},
		{"source tokens consecutive", `source:bbc-world`, Doc{Source: "bbc-news-world"}, false},
		{"source prefix", `source:bbc*`, Doc{Source: "bbc-world"}, true},
		{"tag", `tag:world`, Doc{Tags: []string{"sport", "world"}}, true},
		{"tag absent", `tag:world`, Doc{Tags: []string{"sport"}, Title: "world"}, false},
		{"untagged feed", `tag:world`, Doc{Title: "world", Source: "world"}, false},
		{"tag is whole", `tag:middle-east`, Doc{Tags: []string{"middle-east-asia"}}, false},
		{"tag with dashes", `tag:middle-east`, Doc{Tags: []string{"middle-east"}}, true},
		{"tag is not a word of another", `tag:east`, Doc{Tags: []string{"middle-east"}}, false},
		{"unscoped skips tags", `world`, Doc{Tags: []string{"world"}}, false},
		{"tag scoping a topic", `tag:world AND (Korea OR DPRK)`, Doc{Tags: []string{"world"}, Title: "DPRK"}, true},
		{"tag scoping a topic, other feed", `tag:world AND (Korea OR DPRK)`, Doc{Tags: []string{"asia"}, Title: "DPRK"}, false},
		{"NOT tag", `korea NOT tag:sport`, Doc{Tags: []string{"world"}, Title: "Korea"}, true},
		{"NOT tag excludes", `korea NOT tag:sport`, Doc{Tags: []string{"world", "sport"}, Title: "Korea"}, false},
		{"pure NOT tag", `NOT tag:sport`, Doc{Title: "x"}, true},
		{"prefix does not reach tags", `worl*`, Doc{Tags: []string{"world"}}, false},
		{"tag group", `tag:(asia OR world)`, Doc{Tags: []string{"world"}}, true},
		{"AND across fields", `russia AND troops`, Doc{Title: "Russia", Content: "troops"}, true},
		{"AND across scoped fields", `title:russia AND url:troops`, Doc{Title: "Russia", URL: "http://x/troops"}, true},
		{"DPRK topic", `("North Korea" OR DPRK OR Pyongyang) AND (Russia OR Kremlin OR Moscow) AND (military OR troops OR soldiers)`,
			Doc{Title: "DPRK–Russia pact", Content: "Pyongyang may send soldiers."}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchOne(t, tt.query, tt.doc) != nil; got != tt.want {
				t.Errorf("%q on %+v = %v, want %v", tt.query, tt.doc, got, tt.want)
			}
		})
	}
}

func TestMatchExplain(t *testing.T) {
	tests := []struct {
		name  string
		query string
		doc   Doc
		want  []MatchedTerm
	}{
		{"fields in order", `("North Korea" OR DPRK OR Pyongyang) AND (Russia OR Kremlin) NOT sport`,
			Doc{Title: "DPRK and Russia", Content: "Russia and North Korea"},
			[]MatchedTerm{{"North Korea", "content"}, {"DPRK", "title"}, {"Russia", "title"}, {"Russia", "content"}}},
		{"scope limits fields", `title:russia OR troops`, Doc{Title: "troops", Content: "Russia troops"},
			[]MatchedTerm{{"troops", "title"}, {"troops", "content"}}},
		{"prefix written with star", `korea*`, content("Korean"), []MatchedTerm{{"korea*", "content"}}},
		{"NEAR reports near pairs only", `(russia OR moscow) NEAR/2 troops`, content("Moscow far far far troops Russia"),
			[]MatchedTerm{{"russia", "content"}, {"troops", "content"}}},
		{"duplicates dropped", `Russia AND (russia OR Russia) AND Russia`, content("Russia"),
			[]MatchedTerm{{"Russia", "content"}, {"russia", "content"}}},
		{"url and source", `url:ukrain* source:bbc-world`, Doc{URL: "https://bbc.test/ukraine", Source: "bbc-world"},
			[]MatchedTerm{{"ukrain*", "url"}, {"bbc world", "source"}}},
		{"tag", `tag:world korea`, Doc{Tags: []string{"world"}, Title: "Korea"},
			[]MatchedTerm{{"world", "tag"}, {"korea", "title"}}},
		{"pure NOT", `NOT sport`, content("x"), []MatchedTerm{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := matchOne(t, tt.query, tt.doc)
			if h == nil {
				t.Fatalf("%q did not match %+v", tt.query, tt.doc)
			}
			if !reflect.DeepEqual(h.Terms, tt.want) {
				t.Errorf("Terms = %v, want %v", h.Terms, tt.want)
			}
		})
	}
}

func TestTermStrings(t *testing.T) {
	h := Hit{Terms: []MatchedTerm{{"Russia", "title"}, {"DPRK", "title"}, {"Russia", "content"}, {"korea*", "url"}}}
	if got, want := h.TermStrings(), []string{"DPRK", "Russia", "korea*"}; !slices.Equal(got, want) {
		t.Errorf("TermStrings = %q, want %q", got, want)
	}
	if got := (Hit{}).TermStrings(); got == nil || len(got) != 0 {
		t.Errorf("TermStrings of no terms = %#v, want empty non-nil", got)
	}
}

func TestMatchManyTopics(t *testing.T) {
	m, err := Compile([]Topic{
		{"zeta", `russia`},
		{"alpha", `russia AND troops`},
		{"mid", `NOT weather`},
		{"none", `china`},
		{"beta", `"north korea" NEAR/3 russia*`},
	})
	if err != nil {
		t.Fatal(err)
	}
	hits := m.Match(Doc{Title: "North Korea and Russian troops", Content: "Russia"})
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.Topic)
	}
	if want := []string{"alpha", "beta", "mid", "zeta"}; !slices.Equal(ids, want) {
		t.Errorf("topics = %q, want %q", ids, want)
	}
	if got := m.Match(Doc{Content: "weather in China"}); len(got) != 1 || got[0].Topic != "none" {
		t.Errorf("hits = %+v, want only none", got)
	}
	empty, err := Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Match(Doc{Content: "Russia"}); got != nil {
		t.Errorf("empty matcher hits = %+v, want nil", got)
	}
	if got := m.Match(Doc{Content: "weather"}); got != nil {
		t.Errorf("hits = %+v, want nil", got)
	}
}

func TestCompileErrors(t *testing.T) {
	_, err := Compile([]Topic{
		{"good", `russia`},
		{"bad", `russia AND`},
		{"worse", `(a`},
		{"good", `china`},
	})
	if err == nil {
		t.Fatal("Compile succeeded, want errors")
	}
	for _, want := range []string{
		`topic "bad": column 11: expected term or "(" after AND`,
		`topic "worse": column 1: unclosed "("`,
		`topic "good": topics: duplicate topic id`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	var te *TopicError
	var se *SyntaxError
	if !errors.As(err, &te) || te.Topic != "bad" || !errors.As(err, &se) || se.Col != 11 {
		t.Errorf("errors.As: TopicError %+v SyntaxError %+v", te, se)
	}
	if !errors.Is(err, ErrDuplicateTopic) {
		t.Errorf("error does not wrap ErrDuplicateTopic")
	}
}

func TestMatchConcurrent(t *testing.T) {
	var ts []Topic
	for i := range 50 {
		ts = append(ts, Topic{ID: fmt.Sprintf("t%02d", i), Query: fmt.Sprintf(`(w%d OR w%d*) NEAR/3 "w%d w%d"`, i%7, i%5, i%3, i%4)})
	}
	m, err := Compile(ts)
	if err != nil {
		t.Fatal(err)
	}
	docs := []Doc{
		content("w1 w2 w3 w0 w1 w2 w3"), content("w3 w0 w11 w2 w1"), {Title: "w4 w0 w2", Summary: "w2 w0 w1 w3"},
	}
	want := make([][]Hit, len(docs))
	for i, d := range docs {
		want[i] = m.Match(d)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				d := (g + i) % len(docs)
				if got := m.Match(docs[d]); !reflect.DeepEqual(got, want[d]) {
					t.Errorf("doc %d: concurrent Match differs", d)
					return
				}
			}
		})
	}
	wg.Wait()
}
