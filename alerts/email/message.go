package email

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newswatch/newswatch/alerts/notify"
)

// MaxArticles is how many articles a message lists; the rest are counted in a last line.
const MaxArticles = 50

const (
	maxSubject = 150
	maxSnippet = 400
)

// Message is an alert rendered as an e-mail: a subject, a plain-text part and an HTML part
// with the same content.
type Message struct {
	Subject, Text, HTML string
}

// view is what both parts show.
type view struct {
	Title    string
	Summary  string
	Articles []articleView
	More     int
	FiredAt  string
}

type articleView struct {
	Title, URL, Source, Published, Snippet, Matched string
	// Outlets are the other outlets that carry the story, by source id.
	Outlets []string
}

// Format renders an alert: the subject names the topic and what happened; each part lists the
// articles (at most MaxArticles) with their outlet, time, link, matched terms and the other
// outlets carrying the same story.
func Format(a notify.Alert) Message {
	v := view{Title: topicName(a) + ": " + kindLabel(a), Summary: a.Summary, FiredAt: a.FiredAt.UTC().Format(time.RFC1123)}
	shown := a.Articles[:min(len(a.Articles), MaxArticles)]
	for _, art := range shown {
		av := articleView{
			Title: firstNonEmpty(art.Title, art.URL), URL: art.URL, Source: art.Source,
			Snippet: truncate(art.Snippet, maxSnippet), Matched: strings.Join(art.Matched, ", "),
		}
		if !art.PublishedAt.IsZero() {
			av.Published = art.PublishedAt.UTC().Format("2006-01-02 15:04 MST")
		}
		seen := map[string]bool{art.Source: true}
		for _, c := range art.Copies {
			if !seen[c.Source] {
				seen[c.Source] = true
				av.Outlets = append(av.Outlets, c.Source)
			}
		}
		v.Articles = append(v.Articles, av)
	}
	v.More = len(a.Articles) - len(shown)
	var text, html bytes.Buffer
	writeText(&text, v)
	if err := htmlTemplate.Execute(&html, v); err != nil {
		// The template is fixed and its data plain strings: this cannot happen, but a
		// message still goes out with its text part.
		html.Reset()
		html.WriteString("<pre>" + template.HTMLEscapeString(text.String()) + "</pre>")
	}
	return Message{Subject: truncate("[newswatch] "+v.Title, maxSubject), Text: text.String(), HTML: html.String()}
}

func writeText(w *bytes.Buffer, v view) {
	fmt.Fprintf(w, "%s\n%s\n\n", v.Title, strings.Repeat("=", min(utf8.RuneCountInString(v.Title), 72)))
	if v.Summary != "" {
		fmt.Fprintf(w, "%s\n\n", v.Summary)
	}
	if len(v.Articles) == 0 {
		w.WriteString("No articles.\n\n")
	}
	for i, a := range v.Articles {
		fmt.Fprintf(w, "%d. %s\n   %s", i+1, a.Title, a.Source)
		if a.Published != "" {
			fmt.Fprintf(w, " · %s", a.Published)
		}
		fmt.Fprintf(w, "\n   %s\n", a.URL)
		if a.Snippet != "" {
			fmt.Fprintf(w, "   %s\n", a.Snippet)
		}
		if a.Matched != "" {
			fmt.Fprintf(w, "   matched: %s\n", a.Matched)
		}
		if len(a.Outlets) > 0 {
			fmt.Fprintf(w, "   also in: %s\n", strings.Join(a.Outlets, ", "))
		}
		w.WriteString("\n")
	}
	if v.More > 0 {
		fmt.Fprintf(w, "… and %d more articles.\n\n", v.More)
	}
	fmt.Fprintf(w, "-- \nSent by newswatch at %s.\n", v.FiredAt)
}

var htmlTemplate = template.Must(template.New("alert").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 40em">
<h1 style="font-size: 1.3em">{{.Title}}</h1>
{{if .Summary}}<p>{{.Summary}}</p>{{end}}
{{if not .Articles}}<p>No articles.</p>{{end}}
<ol>
{{range .Articles}}<li style="margin-bottom: 1em"><a href="{{.URL}}">{{.Title}}</a><br>
<small>{{.Source}}{{if .Published}} · {{.Published}}{{end}}</small>
{{if .Snippet}}<br>{{.Snippet}}{{end}}
{{if .Matched}}<br><small>matched: {{.Matched}}</small>{{end}}
{{if .Outlets}}<br><small>also in: {{range $i, $o := .Outlets}}{{if $i}}, {{end}}{{$o}}{{end}}</small>{{end}}
</li>
{{end}}</ol>
{{if .More}}<p>… and {{.More}} more articles.</p>{{end}}
<hr><p><small>Sent by newswatch at {{.FiredAt}}.</small></p>
</body></html>
`))

func topicName(a notify.Alert) string { return firstNonEmpty(a.TopicName, a.Topic) }

func kindLabel(a notify.Alert) string {
	switch a.Kind {
	case notify.KindSpike:
		if a.Spike != nil {
			return fmt.Sprintf("spike, %d articles from %d outlets", a.Spike.Articles, len(a.Spike.Sources))
		}
		return "spike"
	case notify.KindDigest:
		if a.Digest != nil {
			return fmt.Sprintf("digest, %d stories", a.Digest.TotalStories)
		}
		return "digest"
	}
	if n := len(a.Articles); n != 1 {
		return fmt.Sprintf("%d new articles", n)
	}
	return "1 new article"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
