// Package opml reads and writes OPML subscription lists, the format feed readers (Miniflux,
// FreshRSS, Inoreader, Feedly, NetNewsWire, Thunderbird) import and export. It is pure: bytes
// in, values out.
//
// Reading is bounded for hostile files: the document size, the nesting depth and the number of
// outlines are capped, and entities other than XML's five predefined ones are never expanded
// (encoding/xml does not expand DTD entities; a reference to one is an error).
package opml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/net/html/charset"
)

// Limits bound what Parse reads.
type Limits struct {
	// MaxBytes caps the document size (default 8 MiB).
	MaxBytes int64
	// MaxDepth caps outline nesting (default 32).
	MaxDepth int
	// MaxOutlines caps the number of outlines (default 20,000).
	MaxOutlines int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 8 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 32
	}
	if l.MaxOutlines <= 0 {
		l.MaxOutlines = 20000
	}
	return l
}

// ErrTooLarge, ErrTooDeep and ErrTooMany are returned, wrapped, when a document exceeds a limit.
var (
	ErrTooLarge = errors.New("opml: document too large")
	ErrTooDeep  = errors.New("opml: outlines nested too deeply")
	ErrTooMany  = errors.New("opml: too many outlines")
	ErrNotOPML  = errors.New("opml: not an OPML document")
)

// Outline is one subscription: an outline with an xmlUrl.
type Outline struct {
	// Title is the outline's title, else its text.
	Title string
	// XMLURL is the feed's address, HTMLURL the site's, both as given.
	XMLURL, HTMLURL string
	// Categories are the titles of the folders the outline sits in, outermost first, then the
	// entries of its own category attribute (slash-separated paths keep their last part), each
	// once.
	Categories []string
	// Line is where the outline starts in the document.
	Line int
}

// Document is a parsed OPML file.
type Document struct {
	Title    string
	Outlines []Outline
	// Skipped are outlines that are neither a subscription nor a folder (no xmlUrl and no
	// children), by line, for the import report.
	Skipped []int
}

// Parse reads an OPML document.
func Parse(r io.Reader, lim Limits) (Document, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return Document{}, fmt.Errorf("read opml: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return Document{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charset.NewReaderLabel
	p := parser{d: d, lim: lim, data: data}
	return p.run()
}

type folder struct {
	title    string
	children int
	line     int
	isFeed   bool
}

type parser struct {
	d       *xml.Decoder
	lim     Limits
	data    []byte
	doc     Document
	stack   []folder // open outlines
	count   int
	root    bool
	inTitle bool
	// lineOff and lineNo: newlines counted up to lineOff.
	lineOff, lineNo int
}

func (p *parser) run() (Document, error) {
	depth := 0
	for {
		tok, err := p.d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p.doc, fmt.Errorf("opml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > p.lim.MaxDepth+3 { // opml > body > outline...
				return p.doc, fmt.Errorf("%w: deeper than %d", ErrTooDeep, p.lim.MaxDepth)
			}
			if err := p.start(t, depth); err != nil {
				return p.doc, err
			}
		case xml.EndElement:
			depth--
			p.end(t)
		case xml.CharData:
			if p.inTitle {
				p.doc.Title += string(t)
			}
		}
	}
	if !p.root {
		return p.doc, fmt.Errorf("%w: no <opml> root element", ErrNotOPML)
	}
	p.doc.Title = strings.TrimSpace(p.doc.Title)
	return p.doc, nil
}

func (p *parser) start(t xml.StartElement, depth int) error {
	switch {
	case depth == 1:
		if t.Name.Local != "opml" {
			return fmt.Errorf("%w: root element is <%s>", ErrNotOPML, t.Name.Local)
		}
		p.root = true
	case t.Name.Local == "title" && len(p.stack) == 0:
		p.inTitle = true
	case t.Name.Local == "outline":
		p.count++
		if p.count > p.lim.MaxOutlines {
			return fmt.Errorf("%w: more than %d", ErrTooMany, p.lim.MaxOutlines)
		}
		if n := len(p.stack); n > 0 {
			p.stack[n-1].children++
		}
		line := p.line()
		a := attrMap(t.Attr)
		title := strings.TrimSpace(firstNonEmpty(a["title"], a["text"]))
		xmlURL := strings.TrimSpace(firstNonEmpty(a["xmlurl"], a["url"]))
		if typ := strings.ToLower(a["type"]); xmlURL != "" && (typ == "" || typ == "rss" || typ == "atom" || typ == "feed" || typ == "link") {
			o := Outline{Title: title, XMLURL: xmlURL, HTMLURL: strings.TrimSpace(a["htmlurl"]), Line: line}
			for _, f := range p.stack {
				if f.title != "" && !f.isFeed {
					o.Categories = append(o.Categories, f.title)
				}
			}
			for _, c := range strings.Split(a["category"], ",") {
				c = strings.TrimSpace(c)
				if i := strings.LastIndex(c, "/"); i >= 0 {
					c = c[i+1:]
				}
				if c != "" && !slices.Contains(o.Categories, c) {
					o.Categories = append(o.Categories, c)
				}
			}
			p.doc.Outlines = append(p.doc.Outlines, o)
			p.stack = append(p.stack, folder{title: title, line: line, isFeed: true})
			return nil
		}
		p.stack = append(p.stack, folder{title: title, line: line})
	}
	return nil
}

func (p *parser) end(t xml.EndElement) {
	switch t.Name.Local {
	case "title":
		p.inTitle = false
	case "outline":
		n := len(p.stack)
		if n == 0 {
			return
		}
		f := p.stack[n-1]
		p.stack = p.stack[:n-1]
		if !f.isFeed && f.children == 0 {
			p.doc.Skipped = append(p.doc.Skipped, f.line)
		}
	}
}

// line is the line of the decoder's current position, counted on from the last call so that
// a large file is scanned once.
func (p *parser) line() int {
	off := min(int(p.d.InputOffset()), len(p.data))
	if off > p.lineOff {
		p.lineNo += bytes.Count(p.data[p.lineOff:off], []byte("\n"))
		p.lineOff = off
	}
	return p.lineNo + 1
}

// attrMap keys attributes by lower-cased local name: readers disagree on xmlUrl vs xmlurl.
func attrMap(attrs []xml.Attr) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m[strings.ToLower(a.Name.Local)] = a.Value
	}
	return m
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
