package stories

// The projection is the match alert engine's story index (alerts.StoryIndex, CopyIndex and
// JoinIndex): the one story model answers the engine directly, with no adapter between.

// StoryOf returns the story of a topic an article is in, "" when the projection has not
// folded it (or the story aged out). seq is the match's stream sequence, which the caller
// waits to have folded before asking (the daemon's runner does; tests fold first).
func (p *Projection) StoryOf(topic, articleID string, _ uint64) string {
	id, _ := p.StoryID(topic, articleID)
	return id
}

// IsCopy reports whether the article joined its story as a copy of an earlier article's
// text (the same or nearly), rather than as a rewrite.
func (p *Projection) IsCopy(topic, articleID string) bool {
	m, _ := p.Membership(topic, articleID)
	return m.Copy
}

// JoinSimilarity returns how alike the article was to the story it joined, as the model
// measured it when it joined (false for a story's first report or an unknown article).
func (p *Projection) JoinSimilarity(topic, articleID string) (float64, bool) {
	m, ok := p.Membership(topic, articleID)
	return m.Similarity, ok && m.Matched != ""
}
