package alerts

import "context"

// StoryWaiter is a StoryIndex that folds the matches itself, behind the engine (the stories
// projection): the runner waits until it has folded a match before the engine asks which
// story the match is in, however long that takes, so the engine never decides without the
// story model. An error (ctx ended) skips the wait.
type StoryWaiter interface {
	WaitFolded(ctx context.Context, seq uint64) error
}

// CopyIndex is a StoryIndex that also tells a copy (the same text, or nearly, as an earlier
// article of its story) from a rewrite: a copy is folded even when it comes from the outlet
// of the article it copies.
type CopyIndex interface {
	IsCopy(topic, articleID string) bool
}

// JoinIndex is a StoryIndex that also tells how alike an article was to the story it joined
// (0–1, the story model's similarity), for the reason a folded match gives.
type JoinIndex interface {
	JoinSimilarity(topic, articleID string) (float64, bool)
}
