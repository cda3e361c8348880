package opml

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxIDLen is the longest feed id (config's limit).
const MaxIDLen = 64

// Planned is a feed an import will add.
type Planned struct {
	ID, Title, URL, HTMLURL string
	// Tags are the outline's categories as ids (a-z, 0-9, -), without repeats.
	Tags []string
	Line int
}

// Problem kinds in an import report.
const (
	ProblemDuplicate = "duplicate" // the feed URL is already configured or listed earlier
	ProblemInvalid   = "invalid"   // the outline's xmlUrl is not an http(s) URL
	ProblemSkipped   = "skipped"   // neither a feed nor a folder
)

// Problem is an outline an import leaves out, and why.
type Problem struct {
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Title  string `json:"title,omitempty"`
	URL    string `json:"url,omitempty"`
	Reason string `json:"reason"`
}

// Known is what is already configured: a feed id in use, and the id a feed URL is configured
// under.
type Known struct {
	IDTaken func(id string) bool
	URLOf   func(feedURL string) (id string, ok bool)
}

// Plan turns a document's outlines into feeds with unique ids derived from their titles (else
// their host), and reports duplicates and bad entries instead of stopping at them.
func Plan(doc Document, known Known) ([]Planned, []Problem) {
	var out []Planned
	var problems []Problem
	ids := map[string]bool{}
	urls := map[string]string{}
	for _, o := range doc.Outlines {
		u, err := url.Parse(o.XMLURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, Problem{Line: o.Line, Kind: ProblemInvalid, Title: o.Title, URL: o.XMLURL,
				Reason: "xmlUrl is not an http:// or https:// URL"})
			continue
		}
		key := URLKey(o.XMLURL)
		if id, dup := urls[key]; dup {
			problems = append(problems, Problem{Line: o.Line, Kind: ProblemDuplicate, Title: o.Title, URL: o.XMLURL,
				Reason: fmt.Sprintf("listed earlier in the file as %s", id)})
			continue
		}
		if id, dup := known.URLOf(o.XMLURL); dup {
			problems = append(problems, Problem{Line: o.Line, Kind: ProblemDuplicate, Title: o.Title, URL: o.XMLURL,
				Reason: fmt.Sprintf("already configured as %s", id)})
			continue
		}
		id := uniqueID(firstNonEmpty(Slug(o.Title), Slug(strings.TrimPrefix(u.Hostname(), "www.")), "feed"), func(s string) bool {
			return ids[s] || known.IDTaken(s)
		})
		ids[id] = true
		urls[key] = id
		p := Planned{ID: id, Title: o.Title, URL: o.XMLURL, HTMLURL: o.HTMLURL, Line: o.Line}
		for _, c := range o.Categories {
			if t := Slug(c); t != "" && !slices.Contains(p.Tags, t) {
				p.Tags = append(p.Tags, t)
			}
		}
		out = append(out, p)
	}
	for _, line := range doc.Skipped {
		problems = append(problems, Problem{Line: line, Kind: ProblemSkipped, Reason: "outline has no xmlUrl and no children"})
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
	return out, problems
}

// URLKey is how two feed URLs are compared for duplicates: scheme and host case-folded, a
// trailing slash and the fragment ignored, http and https taken as the same feed.
func URLKey(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	u.Scheme = "https"
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u.String()
}

// Slug makes an id from a title: letters folded to ASCII where they decompose (é → e), other
// runs of characters to single dashes, at most MaxIDLen-4 long so a "-NNN" suffix fits. It is
// "" for a title with no ASCII letters or digits.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(title)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= MaxIDLen-4 {
			break
		}
	}
	return strings.Trim(b.String()[:min(b.Len(), MaxIDLen-4)], "-")
}

// uniqueID returns base, or base-2, base-3, ... the first that is not taken.
func uniqueID(base string, taken func(string) bool) string {
	if !taken(base) {
		return base
	}
	for n := 2; ; n++ {
		id := fmt.Sprintf("%s-%d", base, n)
		if !taken(id) {
			return id
		}
	}
}
