package opml

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Subscription is one feed to export.
type Subscription struct {
	ID, Title, XMLURL, HTMLURL string
	// Categories become the folder (the first) and the category attribute (all of them).
	Categories []string
}

type xmlOPML struct {
	XMLName xml.Name   `xml:"opml"`
	Version string     `xml:"version,attr"`
	Head    xmlHead    `xml:"head"`
	Body    []xmlEntry `xml:"body>outline"`
}

type xmlHead struct {
	Title       string `xml:"title"`
	DateCreated string `xml:"dateCreated"`
}

type xmlEntry struct {
	Text     string     `xml:"text,attr"`
	Title    string     `xml:"title,attr,omitempty"`
	Type     string     `xml:"type,attr,omitempty"`
	XMLURL   string     `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string     `xml:"htmlUrl,attr,omitempty"`
	Category string     `xml:"category,attr,omitempty"`
	Children []xmlEntry `xml:"outline"`
}

// Write writes subscriptions as OPML 2.0: feeds with categories sit in a folder named after
// their first category, in the order first seen; the rest follow at the top level.
func Write(w io.Writer, title string, subs []Subscription, now time.Time) error {
	doc := xmlOPML{Version: "2.0", Head: xmlHead{Title: title, DateCreated: now.UTC().Format(time.RFC1123Z)}}
	folders := map[string]int{}
	var loose []xmlEntry
	for _, s := range subs {
		e := xmlEntry{Text: firstNonEmpty(s.Title, s.ID), Title: firstNonEmpty(s.Title, s.ID), Type: "rss", XMLURL: s.XMLURL, HTMLURL: s.HTMLURL}
		if len(s.Categories) == 0 {
			loose = append(loose, e)
			continue
		}
		paths := make([]string, len(s.Categories))
		for i, c := range s.Categories {
			paths[i] = "/" + c
		}
		e.Category = strings.Join(paths, ",")
		i, ok := folders[s.Categories[0]]
		if !ok {
			i = len(doc.Body)
			folders[s.Categories[0]] = i
			doc.Body = append(doc.Body, xmlEntry{Text: s.Categories[0], Title: s.Categories[0]})
		}
		doc.Body[i].Children = append(doc.Body[i].Children, e)
	}
	doc.Body = append(doc.Body, loose...)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
