package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/newswatch/newswatch/projections/stories"
)

// Stories reads a topic's stories. ok is false for a topic that is not configured.
type Stories interface {
	StoryPage(topic, cursor string, limit int) (page stories.Page, ok bool, err error)
	Story(topic, id string) (s stories.Story, ok bool)
}

// storyRoutes serves every story of a topic: GET /api/v1/topics/{id}/stories (newest first,
// paginated with limit and cursor) and GET /api/v1/topics/{id}/stories/{story}.
func (s *server) storyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/topics/{id}/stories", s.listStories)
	mux.HandleFunc("GET /api/v1/topics/{id}/stories/{story}", s.getStory)
}

func (s *server) listStories(w http.ResponseWriter, r *http.Request) {
	if s.o.Stories == nil {
		Error(w, http.StatusNotFound, "stories are not served")
		return
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > stories.MaxPageLimit {
			Error(w, http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(stories.MaxPageLimit))
			return
		}
		limit = n
	}
	topic := r.PathValue("id")
	page, ok, err := s.o.Stories.StoryPage(topic, r.URL.Query().Get("cursor"), limit)
	switch {
	case errors.Is(err, stories.ErrCursor):
		Error(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		Error(w, http.StatusInternalServerError, err.Error())
		return
	case !ok:
		Error(w, http.StatusNotFound, "unknown topic "+strconv.Quote(topic))
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *server) getStory(w http.ResponseWriter, r *http.Request) {
	if s.o.Stories == nil {
		Error(w, http.StatusNotFound, "stories are not served")
		return
	}
	topic, id := r.PathValue("id"), r.PathValue("story")
	st, ok := s.o.Stories.Story(topic, id)
	if !ok {
		Error(w, http.StatusNotFound, "no story "+strconv.Quote(id)+" in topic "+strconv.Quote(topic)+
			" (unknown, or older than the retention of stories)")
		return
	}
	writeJSON(w, http.StatusOK, st)
}
