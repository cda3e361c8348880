package stories

import (
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/events"
)

func TestJoinNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"3,000 troops":       "3000 troops",
		"13,000 containers":  "13000 containers",
		"1.250.000 people":   "1250000 people",
		"3 000 военных":      "3000 военных",
		"2,700 wounded":      "2700 wounded",
		"version 2.5 or 1,5": "version 2.5 or 1,5",
		"June 17, 2026":      "June 17, 2026",
		"12,34567":           "12,34567",
		"no numbers":         "no numbers",
	} {
		if got := joinNumbers(in); got != want {
			t.Errorf("joinNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTermsMeetAcrossForms(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"Korea", "Korean"},
		{"troops", "troop"},
		{"Курск", "Курской"},
		{"Пхеньяне", "пхеньяном"},
		{"Сеул", "Сеуле"},
		{"удар", "удары"},
		{"ударов", "удар"},
		{"Йемену", "Йемене"},
		{"북한군이", "북한의"},
		{"Café", "cafe"},
		{"3,000", "3000"},
	} {
		ta, tb := termsOf(c.a, ""), termsOf(c.b, "")
		if len(ta) != 1 || len(tb) != 1 || ta[0] != tb[0] {
			t.Errorf("%q %v and %q %v: want one equal term", c.a, ta, c.b, tb)
		}
	}
	for _, c := range []struct{ a, b string }{{"3천명", "300"}, {"Kursk", "Kyiv"}, {"东京", "京都"}, {"удар", "удача"}, {"разведка", "развитие"}} {
		if ta, tb := termsOf(c.a, ""), termsOf(c.b, ""); len(ta) > 0 && len(tb) > 0 && ta[0] == tb[0] {
			t.Errorf("%q and %q share a term", c.a, c.b)
		}
	}
}

func TestTermsOf(t *testing.T) {
	ts := termsOf("Russia's 3천명 troops", "troops in 東京都 and a KN-23")
	// russi, (s dropped), 3, 천명, troop (title), in, 東京, 京都, and, kn, 23; "a" dropped
	if len(ts) != 10 {
		t.Errorf("got %d terms %v", len(ts), ts)
	}
	title := 0
	for _, x := range ts {
		if x.title() {
			title++
		}
	}
	if title != 4 { // russi, 3, 천명, troop: troop also in the summary counts as a title term
		t.Errorf("%d title terms", title)
	}
	if len(termsOf("", "")) != 0 || len(termsOf("— !", "")) != 0 {
		t.Error("terms from nothing")
	}
}

// The query terms that matched an article are not among its story terms, in any of their
// forms: a phrase's words, a prefix's stem and every word the prefix matched, even when the
// prefix is shorter than a stem ("коре*" matched "Кореи", whose stem is "кореи").
func TestStoryTermsLeaveOutMatched(t *testing.T) {
	for _, c := range []struct {
		title, summary string
		matched        []string
		want           string // the story terms, as a title of their own
	}{
		{"Russia and North Korea drills", "Troops exercised.", []string{"North Korea", "Russia", "troops"}, "and drills exercised"},
		{"Floods and storms in the north", "Rain.", []string{"storm*"}, "floods and in the north rain"},
		{"Storms batter the coast", "Stormy weather.", []string{"storm*"}, "batter the coast weather"},
		{"Посол КНДР о Северной Корее", "Кореи и России", []string{"КНДР", "северн*", "коре*", "росси*"}, "посол"},
		{"북한군이 러시아에 도착", "", []string{"북한*", "러시아*"}, "도착"},
		{"3,000 troops for Kursk", "", []string{"3,000"}, "troops for kursk"},
		{"Russia's war", "", []string{"Russia's"}, "war"},
		{"Unrelated text", "", nil, "unrelated text"},
	} {
		var matched []events.MatchedTerm
		for _, m := range c.matched {
			matched = append(matched, events.MatchedTerm{Term: m, Field: "title"})
		}
		got := storyTerms(c.title, c.summary, matched)
		want := termsOf(c.want, "")
		for i := range want {
			want[i] = want[i].key()
		}
		keys := make(termSet, len(got))
		for i := range got {
			keys[i] = got[i].key()
		}
		if !slices.Equal(keys, want) {
			t.Errorf("%q %q less %v: %d terms, want those of %q (%d)", c.title, c.summary, c.matched, len(got), c.want, len(want))
		}
	}
}

// Term hashes are stored in snapshots: they must never change.
func TestTermHashStable(t *testing.T) {
	if got := hashOf('w', "kursk"); got != 0xa0de5af8cd7877a5 {
		t.Errorf("hashOf(w, kursk) = %#x", got)
	}
}

func FuzzTermsOf(f *testing.F) {
	f.Add("North Korean troops", "3,000 soldiers in 쿠르스크 and 東京", "korea*")
	f.Add("\xff\xfe", "a\u0301\u0301 1,000,000", "1,000")
	f.Add("Storms batter the coast", "", "*")
	f.Fuzz(func(t *testing.T, title, summary, matched string) {
		ts := storyTerms(title, summary, []events.MatchedTerm{{Term: matched, Field: "title"}})
		for i := 1; i < len(ts); i++ {
			if ts[i-1].key() >= ts[i].key() {
				t.Fatalf("terms not sorted and distinct: %v", ts)
			}
		}
		all := termsOf(title, summary)
		for _, x := range ts {
			if !slices.Contains(all, x) {
				t.Fatalf("story term %v is not a term of the text", x)
			}
		}
		for _, x := range termsOf(strings.TrimSuffix(matched, "*"), "") {
			if slices.ContainsFunc(ts, func(y term) bool { return y.key() == x.key() }) {
				t.Fatalf("a term of the matched %q is left", matched)
			}
		}
	})
}
