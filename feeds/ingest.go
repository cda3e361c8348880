package feeds

import (
	"bytes"
	"context"
	"slices"

	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds/itemscan"
	"github.com/newswatch/newswatch/feeds/normalize"
	"github.com/newswatch/newswatch/feeds/parse"
)

// process is the parse stage: it turns a fetched document into the poll's new articles,
// doing work in proportion to what is new. A document byte-identical to the last stored one
// is unchanged and not parsed at all (its poll is ok, every item a duplicate); of a changed RSS or Atom document, only the items whose
// bytes differ from every item of the last stored poll are parsed and normalized.
func (p *Poller) process(ctx context.Context, j *job) {
	st := &j.r.state
	body := j.resp.Body
	defer func() {
		j.resp.Body = nil // the body's bytes go back to the budget below
		j.hold.Advance(stageCommit)
	}()
	if j.push {
		p.processPush(ctx, j)
		return
	}
	// The validators advance (in settle) only once the poll's articles are stored.
	j.poll.ETag, j.poll.LastModified = j.resp.ETag, j.resp.LastModified
	j.bodyHash = p.hasher.Sum(body)
	if st.bodyHash != 0 && j.bodyHash == st.bodyHash {
		// Same outcome as parsing it would give: every item a duplicate.
		j.poll.Result = events.ResultOK
		j.poll.Items, j.poll.Duplicates = st.items, st.items
		j.itemHashes = st.itemHashes
		p.pm.unchanged.Inc()
		_ = j.hold.Resize(ctx, 0)
		return
	}
	if p.onDocument != nil {
		p.onDocument(st.ID, body, j.resp.Links, firstNonEmpty(j.resp.FinalURL, st.URL))
	}
	doc, spans, skipped := p.newItemsOnly(st, j, body)
	j.poll.Result = events.ResultOK
	j.poll.Items, j.poll.Duplicates = len(spans), skipped
	if spans != nil && skipped == len(spans) {
		// Every item was in the last stored poll: only the channel's own elements changed.
		p.pm.knownItems.Add(float64(skipped))
		_ = j.hold.Resize(ctx, 0)
		return
	}
	if err := j.hold.Grow(ctx, parseFactor*int64(len(doc))); err != nil {
		j.poll.Result, j.poll.Error = events.ResultNetworkError, "waiting for memory to parse: "+err.Error()
		return
	}
	base := firstNonEmpty(j.resp.FinalURL, st.URL)
	parsed, err := parse.Parse(doc, j.resp.ContentType, base)
	if err != nil && skipped > 0 {
		// Cutting items out must never cost a poll: parse the document as served.
		j.itemHashes, skipped = nil, 0
		j.poll.Duplicates = 0
		parsed, err = parse.Parse(body, j.resp.ContentType, base)
	}
	if err != nil {
		j.poll.Result, j.poll.Error = events.ResultParseError, err.Error()
		_ = j.hold.Resize(ctx, 0)
		return
	}
	p.pm.knownItems.Add(float64(skipped))
	if spans == nil {
		j.poll.Items = len(parsed.Items)
	}
	if parsed.Partial != nil {
		// A broken or oversized document still yields its complete items; say what was lost.
		j.poll.Error = "parsed partially: " + parsed.Partial.Error()
		j.bodyHash, j.itemHashes = 0, nil // what was not read must be read next time
		p.m.partial.WithLabelValues(st.ID).Inc()
		p.log.Warn("feed parsed partially", "feed", st.ID, "error", parsed.Partial)
	}
	j.arts = p.normalizeItems(st.ID, parsed, j)
	var size int64
	for _, a := range j.arts {
		size += articleBytes(a)
	}
	_ = j.hold.Resize(ctx, size)
}

// newItemsOnly finds the items of an RSS or Atom document and cuts out those the last stored
// poll had byte for byte. It returns the document to parse, the item spans (nil when the
// document cannot be split, which parses it whole) and how many items it cut.
func (p *Poller) newItemsOnly(st *feedState, j *job, body []byte) ([]byte, []itemscan.Span, int) {
	if trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(trimmed) == 0 || trimmed[0] != '<' {
		return body, nil, 0
	}
	spans, ok := itemscan.Items(body)
	if !ok {
		return body, nil, 0
	}
	hashes := make([]uint64, len(spans))
	for i, s := range spans {
		hashes[i] = p.hasher.Sum(body[s.Start:s.End])
	}
	known := st.itemHashes
	doc, skipped := itemscan.Without(body, spans, func(i int) bool { return knownItem(known, hashes[i]) })
	slices.Sort(hashes)
	j.itemHashes = slices.Compact(hashes)
	return doc, spans, skipped
}

// normalizeItems turns parsed items into articles, cutting every field to its cap.
func (p *Poller) normalizeItems(feedID string, doc *parse.Feed, j *job) []events.Article {
	arts := make([]events.Article, 0, len(doc.Items))
	for _, it := range doc.Items {
		it, rawCut := normalize.CapItem(it)
		a, err := normalize.Article(feedID, doc.Language, it, j.poll.StartedAt)
		if err != nil {
			p.m.itemErrs.WithLabelValues(feedID).Inc()
			continue
		}
		a, cut := normalize.CapArticle(a)
		if len(rawCut) > 0 || len(cut) > 0 {
			j.oversize++
			p.pm.oversize.WithLabelValues("truncated").Inc()
			p.log.Warn("item over a field cap, cut", "feed", feedID, "article", a.ID, "fields", append(rawCut, cut...))
		}
		arts = append(arts, a)
	}
	return arts
}

// articleBytes estimates the memory an article holds: its strings and a fixed overhead.
func articleBytes(a events.Article) int64 {
	n := len(a.ID) + len(a.FeedID) + len(a.URL) + len(a.Link) + len(a.GUID) + len(a.Title) +
		len(a.Summary) + len(a.Content) + len(a.Language) + 256
	for _, s := range a.Authors {
		n += len(s) + 16
	}
	for _, s := range a.Categories {
		n += len(s) + 16
	}
	return int64(n)
}
