package main

import "github.com/newswatch/newswatch/projections/stories"

// storyReader serves the stories of the configured topics to the API.
type storyReader struct{ a *App }

func (r storyReader) configured(topic string) bool {
	for _, t := range r.a.config().Topics {
		if t.ID == topic {
			return true
		}
	}
	return false
}

func (r storyReader) StoryPage(topic, cursor string, limit int) (stories.Page, bool, error) {
	if !r.configured(topic) {
		return stories.Page{}, false, nil
	}
	p, err := r.a.stories.Page(topic, cursor, limit)
	return p, true, err
}

func (r storyReader) Story(topic, id string) (stories.Story, bool) {
	if !r.configured(topic) {
		return stories.Story{}, false
	}
	return r.a.stories.Story(topic, id)
}
