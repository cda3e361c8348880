package topics

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// This file checks the indexed matcher against a direct, brute-force reading
// of §4 over the parsed tree, on random queries and documents.

// naiveDoc is a document as folded token lists per field (title, summary,
// content, url, source), and its feed's tags as they are.
type naiveDoc [numFields][]string

func newNaiveDoc(d Doc) naiveDoc {
	return naiveDoc{Tokenize(d.Title), Tokenize(d.Summary), Tokenize(d.Content), Tokenize(decodeURL(d.URL)), Tokenize(d.Source), d.Tags}
}

// randTags are the tags of random documents and queries. "korea" and "a" are words of the
// vocabulary too, so a tag shares its term with text and the matcher must keep them apart.
var randTags = []string{"korea", "asia", "middle-east", "sport", "a"}

func randTagSet(r *rand.Rand) []string {
	var out []string
	for _, t := range randTags {
		if r.IntN(3) == 0 {
			out = append(out, t)
		}
	}
	return out
}

// occurrences returns the start positions of a leaf in field f.
func (nd naiveDoc) occurrences(n *node, f int) []int {
	if n.fields&(1<<f) == 0 {
		return nil
	}
	toks := nd[f]
	var out []int
	for i := range toks {
		ok := true
		for j, w := range n.words {
			switch {
			case i+j >= len(toks):
				ok = false
			case n.op == opPrefix:
				ok = strings.HasPrefix(toks[i], w)
			default:
				ok = ok && toks[i+j] == w
			}
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// nearFields returns the fields where leaves a and b are near.
func (nd naiveDoc) nearFields(a, b *node, dist int) []int {
	var out []int
	for f := range numFields {
		found := false
		for _, x := range nd.occurrences(a, f) {
			for _, y := range nd.occurrences(b, f) {
				xe, ye := x+len(a.words)-1, y+len(b.words)-1
				if (y > xe && y-xe <= dist) || (x > ye && x-ye <= dist) {
					found = true
				}
			}
		}
		if found {
			out = append(out, f)
		}
	}
	return out
}

func (nd naiveDoc) eval(n *node) bool {
	switch n.op {
	case opTerm, opPrefix, opPhrase:
		for f := range numFields {
			if len(nd.occurrences(n, f)) > 0 {
				return true
			}
		}
		return false
	case opAnd:
		for _, k := range n.kids {
			if !nd.eval(k) {
				return false
			}
		}
		return true
	case opOr:
		return slices.ContainsFunc(n.kids, nd.eval)
	case opNot:
		return !nd.eval(n.kids[0])
	}
	for _, a := range n.kids[0].leaves(nil) {
		for _, b := range n.kids[1].leaves(nil) {
			if len(nd.nearFields(a, b, n.dist)) > 0 {
				return true
			}
		}
	}
	return false
}

// explain lists (leaf index, field) witnesses of a true node.
func (nd naiveDoc) explain(n *node, leafIdx map[*node]int, out *[][2]int) {
	switch n.op {
	case opTerm, opPrefix, opPhrase:
		for f := range numFields {
			if len(nd.occurrences(n, f)) > 0 {
				*out = append(*out, [2]int{leafIdx[n], f})
			}
		}
	case opAnd, opOr:
		for _, k := range n.kids {
			if nd.eval(k) {
				nd.explain(k, leafIdx, out)
			}
		}
	case opNear:
		for _, a := range n.kids[0].leaves(nil) {
			for _, b := range n.kids[1].leaves(nil) {
				for _, f := range nd.nearFields(a, b, n.dist) {
					*out = append(*out, [2]int{leafIdx[a], f}, [2]int{leafIdx[b], f})
				}
			}
		}
	}
}

func naiveHit(id string, q *Query, nd naiveDoc) *Hit {
	if !nd.eval(q.root) {
		return nil
	}
	leaves := q.root.leaves(nil)
	idx := map[*node]int{}
	for i, l := range leaves {
		idx[l] = i
	}
	var recs [][2]int
	nd.explain(q.root, idx, &recs)
	slices.SortFunc(recs, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	h := &Hit{Topic: id, Terms: []MatchedTerm{}}
	for _, r := range recs {
		mt := MatchedTerm{leaves[r[0]].text, fieldNames[r[1]]}
		if !slices.Contains(h.Terms, mt) {
			h.Terms = append(h.Terms, mt)
		}
	}
	return h
}

// vocab is small so that random documents hit random queries often. It has
// shared prefixes, repeated words, case and accent variants.
var vocab = []string{"korea", "Korean", "kor", "russia", "Rußland", "troops", "troop", "café", "CAFE", "north", "south", "and", "the", "москва", "Москве", "북한", "북한과", "a", "ab", "abc"}

func randWord(r *rand.Rand) string { return vocab[r.IntN(len(vocab))] }

// gen generates random queries. Prefixes shorter than minPrefix bytes are
// not generated, which switches the prefix trie's head filter on.
type gen struct {
	r         *rand.Rand
	minPrefix int
}

func (g gen) prefix() string {
	for {
		w := []rune(Fold(randWord(g.r)))
		if p := string(w[:1+g.r.IntN(len(w))]); len(p) >= g.minPrefix {
			return p + "*"
		}
	}
}

func (g gen) leaf() string {
	r := g.r
	var s string
	switch r.IntN(6) {
	case 0, 1, 2:
		s = randWord(r)
	case 3:
		s = g.prefix()
	default:
		n := 2 + r.IntN(2)
		var ws []string
		for range n {
			ws = append(ws, randWord(r))
		}
		s = `"` + strings.Join(ws, " ") + `"`
	}
	if r.IntN(8) == 0 {
		return "tag:" + randTags[r.IntN(len(randTags))]
	}
	if r.IntN(5) == 0 {
		s = []string{"title:", "summary:", "content:", "url:", "source:"}[r.IntN(numFields-1)] + s
	}
	return s
}

func (g gen) query(depth int) string {
	r := g.r
	if depth <= 0 || r.IntN(3) == 0 {
		return g.leaf()
	}
	switch r.IntN(7) {
	case 0:
		return "NOT " + g.query(depth-1)
	case 1:
		return g.query(depth-1) + " OR " + g.query(depth-1)
	case 2:
		return g.query(depth-1) + " " + g.query(depth-1)
	case 3:
		return "(" + g.query(depth-1) + ")"
	case 4:
		a, b := g.leaf(), g.leaf()
		if r.IntN(2) == 0 {
			a = "(" + a + " OR " + g.leaf() + ")"
		}
		return fmt.Sprintf("%s NEAR/%d %s", a, 1+r.IntN(4), b)
	}
	return g.query(depth-1) + " AND " + g.query(depth-1)
}

func randText(r *rand.Rand, n int) string {
	seps := []string{" ", " ", " ", ", ", "–", "'", ". "}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(seps[r.IntN(len(seps))])
		}
		b.WriteString(randWord(r))
	}
	return b.String()
}

func TestMatcherAgreesWithNaive(t *testing.T) {
	for _, minPrefix := range []int{1, 3} {
		t.Run(fmt.Sprintf("minPrefix=%d", minPrefix), func(t *testing.T) {
			testAgreesWithNaive(t, gen{rand.New(rand.NewPCG(1, uint64(minPrefix))), minPrefix})
		})
	}
}

func testAgreesWithNaive(t *testing.T, g gen) {
	r := g.r
	var topics []Topic
	queries := map[string]*Query{}
	for len(topics) < 400 {
		text := g.query(4)
		q, err := Parse(text)
		if err != nil {
			continue // e.g. NEAR between disjoint fields
		}
		id := fmt.Sprintf("q%03d", len(topics))
		topics = append(topics, Topic{ID: id, Query: text})
		queries[id] = q
	}
	m, err := Compile(topics)
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	for i := range 500 {
		d := Doc{
			Title: randText(r, r.IntN(5)), Summary: randText(r, r.IntN(10)), Content: randText(r, r.IntN(40)),
			URL: "https://x.test/" + strings.ReplaceAll(randText(r, r.IntN(4)), " ", "-"), Source: randText(r, r.IntN(3)),
			Tags: randTagSet(r),
		}
		nd := newNaiveDoc(d)
		var want []Hit
		for _, tp := range topics {
			if h := naiveHit(tp.ID, queries[tp.ID], nd); h != nil {
				want = append(want, *h)
			}
		}
		got := m.Match(d)
		matched += len(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("doc %d %+v:\n got  %v\n want %v", i, d, got, want)
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d hits; the random generator does not exercise the matcher", matched)
	}
	t.Logf("%d hits over 500 documents and %d topics", matched, len(topics))
}

func FuzzMatch(f *testing.F) {
	f.Add(`("North Korea" OR DPRK) AND russia* NOT sport`, "DPRK–Russia", "North Korea's Russian troops")
	f.Add(`"a b" NEAR/2 (c OR d*)`, "d x a b", "a b c")
	f.Add(`title:café NEAR/1 ﬁsh`, "Cafe\u0301 FISH", "")
	f.Add(`북한* OR NOT Москва`, "북한과", "москва")
	f.Add(`tag:world korea NOT tag:sport`, "world", "Korea")
	f.Fuzz(func(t *testing.T, query, title, body string) {
		q, err := Parse(query)
		if err != nil {
			return
		}
		m, err := Compile([]Topic{{ID: "t", Query: query}})
		if err != nil {
			t.Fatalf("Parse accepted %q but Compile failed: %v", query, err)
		}
		d := Doc{Title: title, Content: body, URL: "https://x.test/" + title, Source: body, Tags: []string{"world", "middle-east"}}
		got := m.Match(d)
		var want []Hit
		if h := naiveHit("t", q, newNaiveDoc(d)); h != nil {
			want = []Hit{*h}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("query %q doc %+v:\n got  %v\n want %v", query, d, got, want)
		}
	})
}
