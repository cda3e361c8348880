package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// Event types. They follow the CloudEvents "type" attribute: reverse-DNS-free but namespaced, and
// never reused for a different payload. A breaking payload change bumps the schema version, not
// the type.
const (
	TypeArticle = "newswatch.article"
	TypePoll    = "newswatch.poll"
)

// Schema versions of each payload that this build writes. Readers accept every version up to
// these.
const (
	ArticleSchemaVersion = 1
	PollSchemaVersion    = 1
)

// Subject prefixes (PRODUCT §5).
const (
	ArticleSubjectPrefix = "newswatch.articles."
	PollSubjectPrefix    = "newswatch.polls."
	// articleIDSubjectPrefix holds one empty marker message per article id ever published; it is
	// what makes deduplication hold forever, beyond JetStream's duplicate window.
	articleIDSubjectPrefix = "newswatch.articleids."
)

// ErrUnknownSchema is returned when an event carries a schema version newer than this build
// understands.
var ErrUnknownSchema = errors.New("events: unknown schema version")

// Envelope is the JSON form of every newswatch event: CloudEvents 1.0 attribute names in
// structured mode, with the payload in Data.
type Envelope struct {
	SpecVersion     string          `json:"specversion"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	ID              string          `json:"id"`
	Time            time.Time       `json:"time"`
	Subject         string          `json:"subject,omitempty"`
	DataContentType string          `json:"datacontenttype"`
	SchemaVersion   int             `json:"schemaversion"`
	Data            json.RawMessage `json:"data"`
}

// newEnvelope wraps a payload. It writes the JSON that json.Marshal gives for the Envelope
// (TestEnvelopeIsMarshal) in one pass: marshalling the payload and then the envelope around it
// copied and re-validated every article's bytes a second time. The scratch buffer is pooled,
// and the event is returned in a slice of its own size.
func newEnvelope(typ string, version int, source, id, subject string, t time.Time, data any) ([]byte, error) {
	e := envelopeBufs.Get().(*envelopeBuf)
	defer e.release()
	ts, err := t.UTC().MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", typ, id, err)
	}
	e.buf.WriteString(`{"specversion":"1.0","type":`)
	e.str(typ)
	e.buf.WriteString(`,"source":`)
	e.str(source)
	e.buf.WriteString(`,"id":`)
	e.str(id)
	e.buf.WriteString(`,"time":`)
	e.buf.Write(ts)
	if subject != "" {
		e.buf.WriteString(`,"subject":`)
		e.str(subject)
	}
	e.buf.WriteString(`,"datacontenttype":"application/json","schemaversion":`)
	e.buf.WriteString(strconv.Itoa(version))
	e.buf.WriteString(`,"data":`)
	if err := e.enc.Encode(data); err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", typ, id, err)
	}
	e.buf.Truncate(e.buf.Len() - 1) // Encode's newline
	e.buf.WriteByte('}')
	return bytes.Clone(e.buf.Bytes()), nil
}

// envelopeBuf is newEnvelope's scratch: a buffer and an encoder writing into it, which
// escapes as json.Marshal does.
type envelopeBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var envelopeBufs = sync.Pool{New: func() any {
	e := new(envelopeBuf)
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// maxPooledEnvelope is the largest scratch buffer kept for reuse.
const maxPooledEnvelope = 1 << 20

// str writes s as a JSON string.
func (e *envelopeBuf) str(s string) {
	_ = e.enc.Encode(s) // a string always encodes
	e.buf.Truncate(e.buf.Len() - 1)
}

func (e *envelopeBuf) release() {
	if e.buf.Cap() > maxPooledEnvelope {
		return
	}
	e.buf.Reset()
	envelopeBufs.Put(e)
}

// DecodeEnvelope parses an event's outer JSON.
func DecodeEnvelope(b []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("decode event: %w", err)
	}
	if e.Type == "" || e.ID == "" {
		return e, errors.New("decode event: missing type or id")
	}
	return e, nil
}

// typed is an event decoded in one pass, envelope and payload together.
type typed[T any] struct {
	Type          string `json:"type"`
	ID            string `json:"id"`
	SchemaVersion int    `json:"schemaversion"`
	Data          T      `json:"data"`
}

// parse decodes an event of type typ whose payload versions 1..maxVersion this build reads.
// Payload changes are additive within a version line, so every known version decodes into
// the current struct.
func parse[T any](b []byte, typ string, maxVersion int) (T, error) {
	return parseWith[T](b, typ, maxVersion, 0)
}

// parseWith is parse with segmentio's parse flags; 0 decodes as json.Unmarshal does.
func parseWith[T any](b []byte, typ string, maxVersion int, flags fastjson.ParseFlags) (T, error) {
	var e typed[T]
	// Projections and the matcher decode every event they fold; segmentio's decoder is a
	// drop-in for encoding/json's semantics at several times its speed (BenchmarkParseMatch).
	var err error
	if flags == 0 {
		err = fastjson.Unmarshal(b, &e)
	} else {
		var rest []byte
		if rest, err = fastjson.Parse(b, &e, flags); err == nil && len(rest) != 0 {
			err = fmt.Errorf("invalid character %q after top-level value", rest[0])
		}
	}
	if err != nil {
		return e.Data, fmt.Errorf("decode %s event: %w", typ, err)
	}
	if e.Type != typ {
		return e.Data, fmt.Errorf("decode %s event %s: has type %q", typ, e.ID, e.Type)
	}
	if e.SchemaVersion < 1 || e.SchemaVersion > maxVersion {
		return e.Data, fmt.Errorf("decode %s event %s: %w %d", typ, e.ID, ErrUnknownSchema, e.SchemaVersion)
	}
	return e.Data, nil
}

// ParseArticle decodes an article event.
func ParseArticle(b []byte) (Article, error) {
	return parse[Article](b, TypeArticle, ArticleSchemaVersion)
}

// ParseArticleShared decodes an article event as ParseArticle does, but its strings may share
// b's memory instead of copying it: a string without escapes is not copied. It is for a
// handler that is done with the article when it returns (the matcher reads every article
// and keeps a few of its fields, in the match events it encodes); b must not change while
// the article is in use.
func ParseArticleShared(b []byte) (Article, error) {
	return parseWith[Article](b, TypeArticle, ArticleSchemaVersion, fastjson.ZeroCopy)
}

// ParsePoll decodes a poll event.
func ParsePoll(b []byte) (Poll, error) { return parse[Poll](b, TypePoll, PollSchemaVersion) }

// EncodeArticle returns the article event for a.
func EncodeArticle(a Article) ([]byte, error) {
	return newEnvelope(TypeArticle, ArticleSchemaVersion, "/feeds/"+a.FeedID, "article-"+a.ID, a.ID, a.FirstSeenAt, a)
}

// EncodePoll returns the poll event for p.
func EncodePoll(p Poll) ([]byte, error) {
	return newEnvelope(TypePoll, PollSchemaVersion, "/feeds/"+p.FeedID, p.ID(), p.FeedID, p.FinishedAt, p)
}
