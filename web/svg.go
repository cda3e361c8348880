package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"
)

// Charts are inline SVG drawn on the server: no script, no library, and they scale with the
// page. Each one has a text alternative (role="img" with an aria-label).

// sparkline draws counts as a line over the usual as a dashed line, two units a point.
func sparkline(counts []int, usual []float64, label string) template.HTML {
	const h = 24.0
	w := float64(2 * max(len(counts)-1, 1))
	top := 1.0
	for i, c := range counts {
		top = max(top, float64(c), usual[i])
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`, w, h+2, w, h+2, html.EscapeString(label))
	// One path per line in whole units, flat stretches as one horizontal move: a quiet
	// topic's line is a few bytes, a busy one's a few hundred.
	line := func(class string, v func(i int) float64) {
		y := func(i int) int { return int(1 + h - v(i)/top*h + 0.5) }
		fmt.Fprintf(&b, `<path class="%s" d="M0 %d`, class, y(0))
		run := 0
		for i := 1; i < len(counts); i++ {
			if y(i) == y(i-1) {
				run += 2
				continue
			}
			if run > 0 {
				fmt.Fprintf(&b, "h%d", run)
				run = 0
			}
			fmt.Fprintf(&b, "L%d %d", 2*i, y(i))
		}
		if run > 0 {
			fmt.Fprintf(&b, "h%d", run)
		}
		b.WriteString(`"/>`)
	}
	line("usual", func(i int) float64 { return usual[i] })
	line("count", func(i int) float64 { return float64(counts[i]) })
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// volumeChart draws hourly counts as bars with the usual as a line, and a tick per day.
func volumeChart(end time.Time, counts []int, usual []float64, label string) template.HTML {
	const w, h, pad = 840.0, 140.0, 16.0
	n := len(counts)
	top := 1.0
	for i, c := range counts {
		top = max(top, float64(c), usual[i])
	}
	bw := w / float64(max(n, 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s">`, w, h+pad, html.EscapeString(label))
	for i, c := range counts {
		if c == 0 {
			continue
		}
		bh := float64(c) / top * h
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d stories, usual %.1f</title></rect>`,
			float64(i)*bw, h-bh, max(bw-0.5, 0.5), bh, c, usual[i])
	}
	b.WriteString(`<polyline class="usual" points="`)
	for i := range usual {
		fmt.Fprintf(&b, "%.1f,%.1f ", (float64(i)+0.5)*bw, h-usual[i]/top*h)
	}
	b.WriteString(`"/>`)
	start := end.Add(-time.Duration(n) * time.Hour)
	for i := 0; i <= n; i++ {
		t := start.Add(time.Duration(i) * time.Hour)
		if t.Hour() != 0 || i == n {
			continue
		}
		x := float64(i) * bw
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" x2="%.1f" y1="0" y2="%g"/><text x="%.1f" y="%g">%s</text>`,
			x, x, h, x+2, h+pad-3, t.Format("Mon 2"))
	}
	fmt.Fprintf(&b, `<text x="%g" y="12" class="top">%g</text></svg>`, w-4, top)
	return template.HTML(b.String())
}

// timeline draws a story's articles on one row per outlet, by time since the first report.
func timeline(st storyView) template.HTML {
	const label, w, row = 150.0, 840.0, 26.0
	if len(st.Outlets) == 0 {
		return ""
	}
	first, last := st.FirstSeen, st.FirstSeen
	for _, a := range st.Articles {
		if a.At.After(last) {
			last = a.At
		}
	}
	span := max(last.Sub(first), time.Hour)
	rowOf := map[string]int{}
	for i, o := range st.Outlets {
		rowOf[o.Source] = i
	}
	h := row*float64(len(st.Outlets)) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart timeline" viewBox="0 0 %g %g" role="img" aria-label="%s">`, w, h,
		html.EscapeString(fmt.Sprintf("%d articles from %d outlets over %s", st.ArticleCount, len(st.Outlets), span.Round(time.Minute))))
	for i, o := range st.Outlets {
		y := row*float64(i) + row/2
		fmt.Fprintf(&b, `<text x="0" y="%.0f">%s</text><line class="tick" x1="%g" x2="%g" y1="%.0f" y2="%.0f"/>`,
			y+4, html.EscapeString(o.Source), label, w-8, y, y)
	}
	for _, a := range st.Articles {
		x := label + 8 + float64(a.At.Sub(first))/float64(span)*(w-label-24)
		y := row*float64(rowOf[a.Source]) + row/2
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.0f" r="6"><title>%s %s: %s</title></circle>`,
			x, y, html.EscapeString(a.Source), a.At.UTC().Format("15:04"), html.EscapeString(a.Title))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g">%s</text><text x="%g" y="%g" class="top">%s</text></svg>`,
		label+8, h-2, first.UTC().Format("2 Jan 15:04"), w-8, h-2, lag(int64(span.Seconds())))
	return template.HTML(b.String())
}
