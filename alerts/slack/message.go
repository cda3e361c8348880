package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newswatch/newswatch/alerts/notify"
)

// MaxArticles is how many articles a message lists; the rest are counted in a last line.
const MaxArticles = 20

// Length limits, under Slack's own (header 150 characters, section text 3000).
const (
	maxHeader  = 150
	maxTitle   = 250
	maxSnippet = 280
	maxTerms   = 10
)

// Message is the JSON body of an incoming-webhook post: Text is the fallback shown in
// notifications and by clients that cannot render blocks.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// JSON encodes the message as posted: compact, with no HTML escaping of <, > and &, which
// Slack's markup uses as is.
func (m Message) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Block is a Slack layout block; only the fields of the types used here (header, section,
// context) are modelled.
type Block struct {
	Type     string  `json:"type"`
	Text     *Text   `json:"text,omitempty"`
	Elements []*Text `json:"elements,omitempty"`
}

// Text is a Slack text object: Type is "plain_text" or "mrkdwn".
type Text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Format renders an alert as a message: a header with the topic name and the kind, the
// alert's summary line (spikes and digests; it is also the fallback text), then one section per article (at most MaxArticles) with the
// headline as a link, the source, the publication time, the matched terms and how many other
// outlets carry the story, and a last line counting the articles left out.
func Format(a notify.Alert) Message {
	header := truncate(topicName(a)+": "+kindLabel(a), maxHeader)
	fallback := a.Summary
	if fallback == "" {
		fallback = header
	}
	m := Message{Text: escape(fallback)}
	m.Blocks = append(m.Blocks, Block{Type: "header", Text: &Text{Type: "plain_text", Text: header}})
	// A match alert's summary only restates the header; a spike's or digest's says more.
	if a.Summary != "" && a.Kind != notify.KindMatch {
		m.Blocks = append(m.Blocks, contextBlock(escape(a.Summary)))
	}
	shown := a.Articles[:min(len(a.Articles), MaxArticles)]
	for _, art := range shown {
		m.Blocks = append(m.Blocks, Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: articleText(art)}})
	}
	if len(a.Articles) == 0 {
		m.Blocks = append(m.Blocks, contextBlock("_No articles._"))
	}
	if more := len(a.Articles) - len(shown); more > 0 {
		m.Blocks = append(m.Blocks, contextBlock(fmt.Sprintf("_and %d more_", more)))
	}
	return m
}

func contextBlock(mrkdwn string) Block {
	return Block{Type: "context", Elements: []*Text{{Type: "mrkdwn", Text: mrkdwn}}}
}

func topicName(a notify.Alert) string {
	if a.TopicName != "" {
		return a.TopicName
	}
	return a.Topic
}

// kindLabel names the kind of alert for people.
func kindLabel(a notify.Alert) string {
	switch a.Kind {
	case notify.KindMatch:
		if len(a.Articles) == 1 {
			return "new story"
		}
		return strconv.Itoa(len(a.Articles)) + " new stories"
	case notify.KindSpike:
		return "volume spike"
	case notify.KindDigest:
		return "digest"
	}
	return a.Kind
}

// articleText is the mrkdwn of one article: the linked headline in bold, a line of facts,
// and the snippet as a quote.
func articleText(art notify.Article) string {
	var b strings.Builder
	title := escape(truncate(art.Title, maxTitle))
	if title == "" {
		title = "(untitled)"
	}
	if art.URL != "" {
		fmt.Fprintf(&b, "*<%s|%s>*", escapeURL(art.URL), title)
	} else {
		fmt.Fprintf(&b, "*%s*", title)
	}
	var facts []string
	if art.Source != "" {
		facts = append(facts, escape(art.Source))
	}
	if !art.PublishedAt.IsZero() {
		facts = append(facts, date(art.PublishedAt))
	}
	if len(art.Matched) > 0 {
		terms := art.Matched[:min(len(art.Matched), maxTerms)]
		facts = append(facts, "matched: "+escape(strings.Join(terms, ", ")))
	}
	if n := otherOutlets(art); n > 0 {
		facts = append(facts, fmt.Sprintf("+%d other %s", n, plural(n, "outlet", "outlets")))
	}
	if len(facts) > 0 {
		b.WriteString("\n")
		b.WriteString(strings.Join(facts, " · "))
	}
	if art.Snippet != "" {
		b.WriteString("\n>")
		b.WriteString(escape(strings.Join(strings.Fields(truncate(art.Snippet, maxSnippet)), " ")))
	}
	return b.String()
}

// otherOutlets counts the distinct sources among the copies, other than the article's own.
func otherOutlets(art notify.Article) int {
	seen := make(map[string]bool, len(art.Copies))
	for _, c := range art.Copies {
		if c.Source != art.Source {
			seen[c.Source] = true
		}
	}
	return len(seen)
}

// date renders t in each reader's own time zone, with UTC as the fallback text.
func date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// escape applies Slack's escaping for text: &, < and > become HTML entities; nothing else
// is escaped, or readers would see the entities.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// escapeURL prepares a URL for <url|text>: Slack's three entities, and "|", which would end
// the URL, percent-encoded.
var escapeURL = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "%7C").Replace

// truncate cuts s to at most n characters, marking a cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return strings.TrimRightFunc(s[:i], func(r rune) bool { return r == ' ' }) + "…"
}
