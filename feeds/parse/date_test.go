package parse

import (
	"bufio"
	"bytes"
	"html"
	"strings"
	"testing"
	"time"
)

// dateDifferences are feedparser's date vectors where Parse deliberately or knowingly gives
// another answer (reviewed; see testdata/feeds/README.md). The test fails when one of them
// starts to agree, so that this list stays true.
var dateDifferences = map[string]string{
	"Κυρ, 11 Ιούλ 2004 12:00:00 EST": "Greek month and day names: not supported",
	"2004-július-13T9:15-05:00":      "Hungarian month names: not supported",
	"-0312":                          "ISO 8601 truncated forms: ambiguous, not supported",
	"031231":                         "ISO 8601 truncated forms: ambiguous, not supported",
	"03-12-31":                       "ISO 8601 truncated forms: ambiguous, not supported",
	"-03-12":                         "ISO 8601 truncated forms: ambiguous, not supported",
	"03335":                          "ISO 8601 ordinal date: not supported",
	"2003-012-31T10:14:55+00:00":     "three-digit month: not supported",
	"Thu, 30 Apr 2015 08:57:00 MET":  "gofeed reads MET as UTC (off by 1h); its answer is used",
	"Thu, 30 Apr 2015 08:57:00 MEST": "gofeed reads MEST as UTC (off by 2h); its answer is used",
}

// TestParseDateVectors runs feedparser's date vectors through Parse, as an item's pubDate.
func TestParseDateVectors(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(readFeed(t, "feedparser/_derived/date_vectors.tsv")))
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3 || cols[1] == "" {
			continue
		}
		in, want := cols[1], cols[2]
		n++
		doc := `<rss version="2.0"><channel><item><title>x</title><pubDate>` + html.EscapeString(in) + `</pubDate></item></channel></rss>`
		f := mustParse(t, []byte(doc), "", "")
		got := "none"
		if p := f.Items[0].Published; p != nil {
			got = p.Format("2006-01-02T15:04:05Z")
		}
		_, known := dateDifferences[in]
		switch {
		case got != want && !known:
			t.Errorf("%s: %q = %s, want %s", cols[0], in, got, want)
		case got == want && known:
			t.Errorf("%s: %q now agrees with feedparser (%s): remove it from dateDifferences", cols[0], in, got)
		}
	}
	if n < 60 {
		t.Fatalf("only %d date vectors read", n)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2004-07-13", "2004-07-13T00:00:00Z"},
		{"2004-07", "2004-07-01T00:00:00Z"},
		{"2004", "2004-01-01T00:00:00Z"},
		{"  Tue,  16 Jul, 2024 06:28:00   UTC ", "2024-07-16T06:28:00Z"},
		{"Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z"},
		{"Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z"},
		{"Wed, 19 Feb 2012 22:40:00 GMT-01:01", "2012-02-19T23:41:00Z"},
		{"2004-07-08 23:56:58 -00:20", "2004-07-09T00:16:58Z"},
		{"2024-07-16 09:00 +09", "2024-07-16T00:00:00Z"},
		{"2004-05-25 오후 11:23:17", "2004-05-25T14:23:17Z"},
		{"2004년 05월 28일  01:31:15", "2004-05-27T16:31:15Z"},
		{"Sept 3, 2024", "2024-09-03T00:00:00Z"},
		{"Tuesday, 16 July 2024 10:00:00 CEST", "2024-07-16T08:00:00Z"},
		{"", ""},
		{"yesterday", ""},
		{"2013-01-27-01", ""},
		{"2024-07-16 10:00 +2500", ""},
		{"Sun, 16 Dec 2012 11:47:32 +zz:00", ""},
	}
	for _, tc := range tests {
		got, ok := parseDate(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("parseDate(%q) = %v, want none", tc.in, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339) != tc.want || got.Location() != time.UTC {
			t.Errorf("parseDate(%q) = %v, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
}
