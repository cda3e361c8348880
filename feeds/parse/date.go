package parse

import (
	"strconv"
	"strings"
	"time"
)

// extraLayouts are date layouts gofeed does not try, or does not reach once the zone has been
// split off by splitZone. They are tried only after gofeed found no date.
var extraLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006-01",
	"2006",
	"2006/01/02 15:04:05",
	"2006/01/02",
	"2006-01-02 PM 3:04:05",
	"2006-01-02 3:04:05 PM",
	"Mon, 2006/01/02 15:04:05",
	"Mon, 2 Jan, 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04",
	"Mon, 2 January 2006 15:04:05",
	"Mon, 2 January 2006 15:04",
	"Monday, 2 Jan 2006 15:04:05",
	"Monday, 2 January 2006 15:04:05",
	"Mon, 2 Jan 2006",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 January 2006 15:04:05",
	"2 Jan 2006",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 2006 15:04:05",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006 3:04 PM",
	"January 2, 2006 15:04",
	"January 2, 2006 3:04 PM",
	"Jan 2, 2006",
	"January 2, 2006",
}

// zoneOffsets maps the zone names found in feeds to their offset in hours. The US one-letter
// forms (ET, PT, ...) are as feedparser reads them. Ambiguous abbreviations (IST, CST in
// China) are left out, or given their commonest meaning in news feeds.
var zoneOffsets = map[string]float64{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "ETC/GMT": 0, "ETC/UTC": 0, "WET": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"AT": -4, "ET": -5, "CT": -6, "MT": -7, "PT": -8,
	"BST": 1, "CET": 1, "MET": 1, "WEST": 1, "CEST": 2, "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
	"HKT": 8, "SGT": 8, "AWST": 8, "KST": 9, "JST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}

// koreanDate rewrites the Korean date words of Korean portals' feeds into forms the layouts
// above read: "2004년 05월 28일 01:31:15" and "2004-05-25 오후 11:23:17".
var koreanDate = strings.NewReplacer("년 ", "-", "년", "-", "월 ", "-", "월", "-", "일", "", "오전", "AM", "오후", "PM")

// kst is the zone assumed for Korean dates without one.
var kst = time.FixedZone("KST", 9*3600)

// parseDate reads the date formats gofeed misses: W3DTF partials (2004-07, 2004), RFC 822
// variants with named or spaced zones, US zone letters, Korean dates. The result is in UTC.
func parseDate(raw string) (time.Time, bool) {
	s := strings.Join(strings.Fields(raw), " ")
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	loc := time.UTC
	if k := koreanDate.Replace(s); k != s {
		s, loc = strings.TrimSpace(k), kst
	}
	if rest, zone, ok := splitZone(s); ok {
		s, loc = rest, zone
	}
	s = strings.Replace(s, "Sept ", "Sep ", 1)
	for _, layout := range extraLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// splitZone cuts a trailing time zone off s: a numeric offset (+0100, -01:00, +01), a name
// from zoneOffsets, or GMT/UTC followed by an offset (GMT-01:01).
func splitZone(s string) (rest string, loc *time.Location, ok bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return s, nil, false
	}
	rest, tok := s[:i], strings.ToUpper(s[i+1:])
	if h, ok := zoneOffsets[tok]; ok {
		return rest, time.FixedZone(tok, int(h*3600)), true
	}
	for _, prefix := range []string{"GMT", "UTC", "UT"} {
		if after, found := strings.CutPrefix(tok, prefix); found && after != "" {
			tok = after
			break
		}
	}
	if secs, ok := numericOffset(tok); ok {
		return rest, time.FixedZone("", secs), true
	}
	return s, nil, false
}

// numericOffset parses +hh, +hhmm and +hh:mm (or -) into seconds east of UTC.
func numericOffset(tok string) (int, bool) {
	if len(tok) < 2 || (tok[0] != '+' && tok[0] != '-') {
		return 0, false
	}
	digits := strings.Replace(tok[1:], ":", "", 1)
	if len(digits) != 2 && len(digits) != 4 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	h, m := n, 0
	if len(digits) == 4 {
		h, m = n/100, n%100
	}
	if h > 14 || m > 59 {
		return 0, false
	}
	secs := h*3600 + m*60
	if tok[0] == '-' {
		secs = -secs
	}
	return secs, true
}
