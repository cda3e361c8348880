package topics

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// Precedence, every pair of operators in both orders.
		{"NOT over AND", `NOT a AND b`, `NOT a AND b`},
		{"AND then NOT", `a AND NOT b`, `a AND NOT b`},
		{"NOT over OR", `NOT a OR b`, `NOT a OR b`},
		{"OR then NOT", `a OR NOT b`, `a OR NOT b`},
		{"NOT over implicit AND", `NOT a b`, `NOT a AND b`},
		{"A NOT B", `a NOT b`, `a AND NOT b`},
		{"NOT group", `NOT (a OR b)`, `NOT (a OR b)`},
		{"double NOT", `NOT NOT a`, `NOT NOT a`},
		{"NEAR over AND", `a NEAR/2 b AND c`, `(a NEAR/2 b) AND c`},
		{"AND then NEAR", `c AND a NEAR/2 b`, `c AND (a NEAR/2 b)`},
		{"NEAR over OR", `a NEAR/2 b OR c`, `(a NEAR/2 b) OR c`},
		{"OR then NEAR", `a OR b NEAR/2 c`, `a OR (b NEAR/2 c)`},
		{"NEAR over implicit", `a NEAR/2 b c`, `(a NEAR/2 b) AND c`},
		{"implicit then NEAR", `a b NEAR/2 c`, `a AND (b NEAR/2 c)`},
		{"AND over OR", `a AND b OR c`, `(a AND b) OR c`},
		{"OR then AND", `a OR b AND c`, `a OR (b AND c)`},
		{"implicit over OR", `a b OR c`, `(a AND b) OR c`},
		{"OR then implicit", `a OR b c`, `a OR (b AND c)`},
		{"explicit and implicit AND are one", `a AND b c`, `a AND b AND c`},
		{"OR chain", `a OR b OR c`, `a OR b OR c`},
		// Parentheses.
		{"group overrides", `(a OR b) c`, `(a OR b) AND c`},
		{"group right", `a AND (b OR c)`, `a AND (b OR c)`},
		{"redundant group", `((a))`, `a`},
		{"nested groups flatten same operator", `(a OR (b OR c)) AND (d AND e)`, `(a OR b OR c) AND d AND e`},
		{"group NOT group", `(a OR b) NOT (c OR d)`, `(a OR b) AND NOT (c OR d)`},
		// Terms.
		{"lower-case operators are terms", `north and south or not near/3`, `north AND and AND south AND or AND not AND "near 3"`},
		{"mixed-case operator is a term", `a And b`, `a AND And AND b`},
		{"quoted keyword stays a term", `"AND" OR "NOT"`, `"AND" OR "NOT"`},
		{"keyword from punctuation", `AND, x`, `"AND" AND x`},
		{"punctuation around a word", `Russia, (Kremlin)`, `Russia AND Kremlin`},
		{"en dash splits into a phrase", `DPRK–Russia`, `"DPRK Russia"`},
		{"apostrophe splits", `Russia's`, `"Russia s"`},
		{"prefix", `Korea*`, `Korea*`},
		{"prefix keeps case as written", `NEAR*`, `NEAR*`},
		{"prefix after punctuation", `ko-*`, `ko*`},
		{"phrase", `"North   Korea"`, `"North Korea"`},
		{"one-word phrase is a term", `"Russia"`, `Russia`},
		{"curly quotes", `“North Korea”`, `"North Korea"`},
		{"guillemets", `«Северная Корея»`, `"Северная Корея"`},
		{"phrase next to word", `"a b"c`, `"a b" AND c`},
		{"hangul", `북한* AND 러시아`, `북한* AND 러시아`},
		// NEAR.
		{"NEAR", `russia NEAR/3 troops`, `russia NEAR/3 troops`},
		{"NEAR with phrase and prefix", `"north korea" NEAR/5 troop*`, `"north korea" NEAR/5 troop*`},
		{"NEAR with OR group", `(russia OR moscow) NEAR/5 (troops OR soldiers)`, `(russia OR moscow) NEAR/5 (troops OR soldiers)`},
		{"NEAR leading zeros", `a NEAR/007 b`, `a NEAR/7 b`},
		// Fields.
		{"field term", `title:russia`, `title:russia`},
		{"field phrase", `title:"north korea"`, `title:"north korea"`},
		{"field group", `title:(a OR b) c`, `(title:a OR title:b) AND c`},
		{"field NEAR", `summary:(a NEAR/2 b)`, `summary:a NEAR/2 summary:b`},
		{"field NOT", `content:(a NOT b)`, `content:a AND NOT content:b`},
		{"field prefix", `url:ukrain*`, `url:ukrain*`},
		{"same field nested", `title:(a OR title:b)`, `title:a OR title:b`},
		{"url with colons", `url:https://example.com/world`, `url:"https example com world"`},
		{"source id", `source:bbc-world`, `source:"bbc world"`},
		{"time is not a field", `12:30`, `"12 30"`},
		{"tag", `tag:world`, `tag:world`},
		{"tag with dashes is one tag", `tag:middle-east`, `tag:middle-east`},
		{"quoted tag", `tag:"world"`, `tag:world`},
		{"tag group", `tag:(world OR asia) korea`, `(tag:world OR tag:asia) AND korea`},
		{"NOT tag", `NOT tag:sport`, `NOT tag:sport`},
		{"tag scoping a topic", `tag:world AND (Korea OR DPRK)`, `tag:world AND (Korea OR DPRK)`},
		{"NEAR across scoped and unscoped", `title:russia NEAR/3 troops`, `title:russia NEAR/3 troops`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			assertRoundTrip(t, q)
		})
	}
}

func TestParseTreeShape(t *testing.T) {
	// The canonical string hides flattening; check the tree directly once.
	q, err := Parse(`a b OR c NOT d`)
	if err != nil {
		t.Fatal(err)
	}
	r := q.root
	if r.op != opOr || len(r.kids) != 2 || r.kids[0].op != opAnd || r.kids[1].op != opAnd ||
		r.kids[1].kids[1].op != opNot {
		t.Fatalf("unexpected tree for %q: %s", "a b OR c NOT d", q)
	}
	leaf := r.kids[0].kids[0]
	if leaf.fields != fDefault || leaf.words[0] != "a" {
		t.Fatalf("leaf = %+v", leaf)
	}
	q, _ = Parse(`title:"Café au lait" NEAR/4 Korea*`)
	near := q.root
	if near.op != opNear || near.dist != 4 {
		t.Fatalf("root = %+v", near)
	}
	ph, pre := near.kids[0], near.kids[1]
	if ph.op != opPhrase || ph.fields != fTitle || strings.Join(ph.words, " ") != "cafe au lait" || ph.text != "Café au lait" {
		t.Errorf("phrase = %+v", ph)
	}
	if pre.op != opPrefix || pre.fields != fDefault || pre.words[0] != "korea" || pre.text != "Korea*" {
		t.Errorf("prefix = %+v", pre)
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("(", maxDepth+1) + "a" + strings.Repeat(")", maxDepth+1)
	tests := []struct {
		in  string
		col int
		msg string
	}{
		{``, 1, `empty query`},
		{`   `, 1, `empty query`},
		{`a AND`, 6, `expected term or "(" after AND`},
		{`a OR`, 5, `expected term or "(" after OR`},
		{`a AND OR b`, 7, `expected term or "(" after AND`},
		{`a OR )`, 6, `expected term or "(" after OR`},
		{`NOT`, 4, `expected term or "(" after NOT`},
		{`a NOT AND b`, 7, `expected term or "(" after NOT`},
		{`a NEAR/3`, 9, `expected term or "(" after NEAR/3`},
		{`AND a`, 1, `expected term or "(" before AND`},
		{`OR a`, 1, `expected term or "(" before OR`},
		{`NEAR/2 a`, 1, `expected term or "(" before NEAR/2`},
		{`(a`, 1, `unclosed "("`},
		{`x (b OR (c)`, 3, `unclosed "("`},
		{`a)`, 2, `unexpected ")"`},
		{`(a))`, 4, `unexpected ")"`},
		{`)`, 1, `unexpected ")"`},
		{`()`, 1, `empty parentheses`},
		{`a ( AND b)`, 5, `expected term or "(" after "("`},
		{`a (`, 4, `expected term or "(" after "("`},
		{`"north korea`, 1, `unterminated phrase`},
		{`a “b c`, 3, `unterminated phrase`},
		{`a «b c”`, 3, `unterminated phrase`},
		{`a "`, 3, `unterminated phrase`},
		{`a «b»"`, 6, `unterminated phrase`},
		{`""`, 1, `empty phrase`},
		{`a " - "`, 3, `empty phrase`},
		{`a NEAR b`, 3, `NEAR needs a distance: NEAR/3`},
		{`a NEAR/ b`, 3, `NEAR needs a distance: NEAR/3`},
		{`a NEAR/x b`, 3, `NEAR needs a distance: NEAR/3`},
		{`a NEAR/+3 b`, 3, `NEAR needs a distance: NEAR/3`},
		{`a NEAR/3x b`, 3, `NEAR needs a distance: NEAR/3`},
		{`a NEAR/0 b`, 3, `NEAR distance must be between 1 and 1000`},
		{`a NEAR/1001 b`, 3, `NEAR distance must be between 1 and 1000`},
		{`foo:bar`, 1, `unknown field "foo" (fields: title, summary, content, url, source, tag)`},
		{`a Title:b`, 3, `unknown field "Title" (fields: title, summary, content, url, source, tag)`},
		{`https://example.com`, 1, `unknown field "https" (fields: title, summary, content, url, source, tag)`},
		{`title:`, 7, `expected term, phrase or "(" after title:`},
		{`title: a`, 7, `expected term, phrase or "(" after title:`},
		{`title:AND a`, 7, `expected term, phrase or "(" after title:`},
		{`title:)`, 7, `expected term, phrase or "(" after title:`},
		{`title:(a OR summary:b)`, 13, `field summary: inside title:(...); a group has one field`},
		{`&`, 1, `expected a term: "&" has no letters or digits`},
		{`a – b`, 3, `expected a term: "–" has no letters or digits`},
		{`*`, 1, `"*" needs a word before it (prefix: korea*)`},
		{`a -*`, 4, `"*" needs a word before it (prefix: korea*)`},
		{`a k*rea`, 4, `"*" is only allowed at the end of a word (prefix: korea*)`},
		{`korea**`, 6, `"*" is only allowed at the end of a word (prefix: korea*)`},
		{`north-kor*`, 1, `a prefix must be a single word, "north-kor*" is several`},
		{`(a AND b) NEAR/3 c`, 1, `NEAR operands must be terms, prefixes, phrases or (x OR y) groups`},
		{`a NEAR/3 (b c)`, 10, `NEAR operands must be terms, prefixes, phrases or (x OR y) groups`},
		{`NOT a NEAR/3 b`, 1, `NEAR operands must be terms, prefixes, phrases or (x OR y) groups`},
		{`a NEAR/3 NOT b`, 10, `NEAR operands must be terms, prefixes, phrases or (x OR y) groups`},
		{`a NEAR/3 b NEAR/3 c`, 12, `NEAR cannot be chained; combine pairs with AND: (a NEAR/3 b) AND (b NEAR/3 c)`},
		{`(a NEAR/3 b) NEAR/3 c`, 14, `NEAR cannot be chained; combine pairs with AND: (a NEAR/3 b) AND (b NEAR/3 c)`},
		{`title:a NEAR/3 summary:b`, 9, `NEAR operands never share a field, so they can never be near`},
		{deep, maxDepth + 1, `query nested too deeply (at most 100 levels)`},
		{`tag:World`, 5, `invalid tag "World": use 1 to 64 characters from a-z, 0-9 and -`},
		{`a tag:world_news`, 7, `invalid tag "world_news": use 1 to 64 characters from a-z, 0-9 and -`},
		{`tag:"north korea"`, 5, `invalid tag "north korea": use 1 to 64 characters from a-z, 0-9 and -`},
		{`tag:` + strings.Repeat("a", 65), 5, `invalid tag "` + strings.Repeat("a", 65) + `": use 1 to 64 characters from a-z, 0-9 and -`},
		{`tag:(world OR Asia)`, 15, `invalid tag "Asia": use 1 to 64 characters from a-z, 0-9 and -`},
		{`tag:wor*`, 5, `tag: takes a whole tag, not a prefix: "wor*"`},
		{`tag: world`, 5, `expected term, phrase or "(" after tag:`},
		{`tag:(world OR title:a)`, 15, `field title: inside tag:(...); a group has one field`},
		{`tag:world NEAR/3 korea`, 11, `tag: cannot be an operand of NEAR: a feed's tags have no positions`},
		{`(korea OR tag:asia) NEAR/3 russia`, 21, `tag: cannot be an operand of NEAR: a feed's tags have no positions`},
		// Columns count runes, not bytes.
		{`Россия AND`, 11, `expected term or "(" after AND`},
		{`북한 (`, 5, `expected term or "(" after "("`},
		{`«Северная Корея`, 1, `unterminated phrase`},
		{`Café k*rea`, 7, `"*" is only allowed at the end of a word (prefix: korea*)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error", tt.in, q)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T is not a *SyntaxError", tt.in, err)
			}
			if se.Col != tt.col || se.Msg != tt.msg {
				t.Errorf("Parse(%q) = column %d %q, want column %d %q", tt.in, se.Col, se.Msg, tt.col, tt.msg)
			}
			if want := "column " + itoa(tt.col) + ": " + tt.msg; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func TestVersion(t *testing.T) {
	a := Version(`russia AND troops`)
	if len(a) != 12 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("Version = %q, want 12 lower-case hex digits", a)
	}
	if b := Version("  russia AND troops\n"); b != a {
		t.Errorf("surrounding white space changed the version: %q vs %q", b, a)
	}
	if c := Version(`russia AND soldiers`); c == a {
		t.Errorf("different queries share version %q", a)
	}
	// Pinned: versions are stored in match events and must never change.
	if got, want := Version(`russia`), "90a6d53df47e"; got != want {
		t.Errorf("Version(russia) = %q, want %q", got, want)
	}
}
