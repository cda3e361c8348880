package stories

import "testing"

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
		{"북한군이", "북한의"},
		{"Café", "cafe"},
		{"3,000", "3000"},
	} {
		ta, tb := termsOf(c.a, ""), termsOf(c.b, "")
		if len(ta) != 1 || len(tb) != 1 || ta[0] != tb[0] {
			t.Errorf("%q %v and %q %v: want one equal term", c.a, ta, c.b, tb)
		}
	}
	for _, c := range []struct{ a, b string }{{"3천명", "300"}, {"Kursk", "Kyiv"}, {"东京", "京都"}} {
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

// Term hashes are stored in snapshots: they must never change.
func TestTermHashStable(t *testing.T) {
	if got := hashOf('w', "kursk"); got != 0xa0de5af8cd7877a5 {
		t.Errorf("hashOf(w, kursk) = %#x", got)
	}
}

func FuzzTermsOf(f *testing.F) {
	f.Add("North Korean troops", "3,000 soldiers in 쿠르스크 and 東京")
	f.Add("\xff\xfe", "a\u0301\u0301 1,000,000")
	f.Fuzz(func(t *testing.T, title, summary string) {
		ts := termsOf(title, summary)
		for i := 1; i < len(ts); i++ {
			if ts[i-1].key() >= ts[i].key() {
				t.Fatalf("terms not sorted and distinct: %v", ts)
			}
		}
	})
}
