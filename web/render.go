package web

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strings"
	"time"
)

// page is one view: the layout with the view's "content" template.
type page struct{ t *template.Template }

// view is what every template gets: the page's title, its nav entry and its data.
type view struct {
	Title string
	Nav   string // the nav entry to mark current, and the body's data-page
	Now   time.Time
	Data  any
}

var funcs = template.FuncMap{
	"ago":     ago,
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"clock":   func(t time.Time) string { return t.UTC().Format("2 Jan 15:04 UTC") },
	"lag":     lag,
	"pct":     func(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) },
	"round1":  func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"add":     func(a, b int) int { return a + b },
}

func parsePages() (map[string]*page, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*page{}
	for _, name := range names {
		n := strings.TrimSuffix(path.Base(name), ".html")
		if n == "layout" || n == "parts" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return nil, fmt.Errorf("web template %s: %w", n, err)
		}
		pages[n] = &page{t: t}
	}
	return pages, nil
}

// render writes a page, or with partial only its "results" template (the query tester's
// live refresh), gzip-compressed when the client accepts it.
func (s *server) render(w http.ResponseWriter, r *http.Request, name string, v view, partial bool) {
	var buf bytes.Buffer
	tmpl := "layout.html"
	if partial {
		tmpl = "results"
	}
	v.Now = s.o.Now()
	if err := s.pages[name].t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		s.o.Logger.Error("render page", "component", "web", "page", name, "err", err)
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		_, _ = w.Write(buf.Bytes())
		return
	}
	h.Set("Content-Encoding", "gzip")
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	_, _ = zw.Write(buf.Bytes())
	_ = zw.Close()
}

// notFound renders the layout with a message and a way on.
func (s *server) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	w.WriteHeader(http.StatusNotFound)
	s.render(w, r, "notfound", view{Title: "Not found", Data: msg}, false)
}

// ago says how long before now t was ("5m ago", "in 2h").
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	d = d.Abs()
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh", int(d.Hours()))
	default:
		s = fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func lag(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d == 0:
		return "first"
	case d < time.Hour:
		return fmt.Sprintf("+%dm", int(math.Ceil(d.Minutes())))
	case d < 48*time.Hour:
		return fmt.Sprintf("+%.1fh", d.Hours())
	default:
		return fmt.Sprintf("+%.1fd", d.Hours()/24)
	}
}
