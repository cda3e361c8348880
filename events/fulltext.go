package events

// FullTextSubjectPrefix is where full-text events go, in the article stream: one per article of a
// full_text feed whose page yielded more text than the feed carried (docs/events.md).
const FullTextSubjectPrefix = "newswatch.fulltext."

// FullTextMessage returns the full-text event of an article: an article event (same type,
// schema and article id) whose Content is the text extracted from the article's page, on the
// feed's full-text subject, with its own event id (fulltext-<article id>). The article event
// itself is never changed.
func FullTextMessage(a Article) (Outgoing, error) {
	id := "fulltext-" + a.ID
	body, err := newEnvelope(TypeArticle, ArticleSchemaVersion, "/feeds/"+a.FeedID+"/fulltext", id, a.ID, a.FirstSeenAt, a)
	if err != nil {
		return Outgoing{}, err
	}
	return Outgoing{Subject: FullTextSubjectPrefix + a.FeedID, MsgID: id, Type: TypeArticle, Data: body}, nil
}
