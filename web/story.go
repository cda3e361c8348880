package web

import (
	"html/template"
	"net/http"
)

type storyData struct {
	TopicID, TopicName string
	Story              storyView
	Timeline           template.HTML
	Articles           []storyArticle
}

// storyArticle is an article of a story with how it relates to the first report.
type storyArticle struct {
	articleRef
	Lag  int64
	Kind string // "first report", "copy" (near-identical text) or "rewrite"
}

func (s *server) story(w http.ResponseWriter, r *http.Request) {
	topic, id := r.PathValue("id"), r.PathValue("story")
	name := ""
	for _, t := range s.o.Config().Topics {
		if t.ID == topic {
			name = t.Name
		}
	}
	if name == "" {
		s.notFound(w, r, "There is no topic "+topic+" in the configuration.")
		return
	}
	st, ok := s.storyByID(topic, id)
	if !ok {
		s.notFound(w, r, "Topic "+name+" has no story "+id+": stories are kept for eight days after their last article.")
		return
	}
	d := storyData{TopicID: topic, TopicName: name, Story: st, Timeline: timeline(st)}
	for _, a := range st.Articles {
		sa := storyArticle{articleRef: a, Lag: int64(a.At.Sub(st.FirstSeen).Seconds()), Kind: "rewrite"}
		switch {
		case a.ID == st.FirstReport.ID:
			sa.Kind = "first report"
		case s.isCopy(topic, a.ID):
			sa.Kind = "copy"
		}
		d.Articles = append(d.Articles, sa)
	}
	s.render(w, r, "story", view{Title: st.Title, Nav: "overview", Data: d}, false)
}
