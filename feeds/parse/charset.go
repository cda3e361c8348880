package parse

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// toUTF8 returns the document as UTF-8 and the name of the encoding it was read in and, when
// it has an XML declaration naming another encoding, rewrites that declaration to say utf-8,
// so that gofeed never transcodes again and never fails on a label it does not know.
//
// The encoding is chosen, most certain evidence first:
//  1. a byte order mark, or the zero bytes of UTF-16/32 text that starts with "<";
//  2. UTF-8, when the body is valid UTF-8 and not plain ASCII: such bytes are almost never
//     anything else, while feeds declared as, or served with a server-wide default of,
//     iso-8859-1 but written in UTF-8 are common;
//  3. the XML declaration, when it names an encoding that can have written that declaration;
//  4. the charset parameter of Content-Type;
//  5. detection among the legacy encodings of news sites (detect.go), for a body that is
//     mostly not UTF-8;
//  6. UTF-8, where each byte that is not valid UTF-8 is read as windows-1252 instead of failing
//     the whole feed (a stray Latin-1 byte is the commonest encoding error in the wild).
//
// The declaration beats Content-Type, unlike RFC 7303: it is written next to the bytes, the
// header is often a server-wide default.
func toUTF8(body []byte, contentType string) (doc []byte, encName string, err error) {
	if rest, ok := bytes.CutPrefix(body, []byte("\xef\xbb\xbf")); ok {
		return fixDeclaration(repairUTF8(rest)), "utf-8", nil
	}
	if enc, name := sniffUnicode(body); enc != nil {
		return decodeWith(enc, name, body)
	}
	if utf8WithNonASCII(body) {
		return fixDeclaration(body), "utf-8", nil
	}
	if label, _, _ := xmlDeclEncoding(body); label != "" {
		if enc, name := lookupEncoding(label); name == "utf-8" {
			return fixDeclaration(repairUTF8(body)), name, nil
		} else if enc != nil {
			return decodeWith(enc, name, body)
		}
	}
	if label := contentTypeCharset(contentType); label != "" {
		if enc, name := lookupEncoding(label); enc != nil && name != "utf-8" {
			return decodeWith(enc, name, body)
		}
	}
	if enc, name := detectLegacy(body); enc != nil {
		return decodeWith(enc, name, body)
	}
	name := "utf-8"
	if valid, invalid := utf8Evidence(body); invalid > 0 && valid == 0 {
		name = "windows-1252" // what repairUTF8 reads every non-ASCII byte as
	}
	return fixDeclaration(repairUTF8(body)), name, nil
}

// decodeWith transcodes body from enc, called name, to UTF-8.
func decodeWith(enc encoding.Encoding, name string, body []byte) ([]byte, string, error) {
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, "", fmt.Errorf("decode %s: %w", name, err)
	}
	return fixDeclaration(repairUTF8(out)), name, nil
}

// sniffUnicode recognizes UTF-32 and UTF-16, by byte order mark or, without one, by the zero
// bytes that an ASCII "<" leaves in those encodings (XML 1.0 appendix F).
func sniffUnicode(b []byte) (encoding.Encoding, string) {
	switch {
	case bytes.HasPrefix(b, []byte{0, 0, 0xfe, 0xff}):
		return utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM), "utf-32be"
	case bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}):
		return utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM), "utf-32le"
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be"
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le"
	case len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0:
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be"
	case len(b) >= 4 && b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le"
	case len(b) >= 2 && b[0] == 0 && b[1] != 0:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be"
	case len(b) >= 2 && b[0] != 0 && b[1] == 0:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le"
	}
	return nil, ""
}

// asciiProbe is decoded with a candidate encoding to check that it maps ASCII to itself: only
// such an encoding can have written a declaration we just read as ASCII.
const asciiProbe = `<?xml version="1.0" encoding="x"?><rss>`

// lookupEncoding finds the encoding for a charset label, by the WHATWG names browsers use and
// then by the IANA registry, and returns it with its canonical name (the WHATWG name, else the
// label in lower case). It returns a nil encoding named "utf-8" for UTF-8, and a nil encoding
// named "" for unknown labels and for encodings that are not ASCII-compatible (UTF-16 declared
// in ASCII bytes is a lie).
func lookupEncoding(label string) (enc encoding.Encoding, name string) {
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, ""
	}
	enc, name = charset.Lookup(label)
	if enc == nil {
		enc, name = charset.Lookup(labelAlias(label))
	}
	if enc == nil {
		if e, err := ianaindex.IANA.Encoding(label); err == nil && e != nil {
			enc, name = e, strings.ToLower(label)
		}
	}
	switch {
	case enc == nil, name == "replacement":
		return nil, ""
	case name == "utf-8" || strings.EqualFold(label, "utf8"):
		return nil, "utf-8"
	case name == "gbk":
		// GBK's decoder is gb18030's (WHATWG Encoding Standard); x/text's GBK decoder lacks
		// the four-byte sequences, so labels meaning GBK (gb2312, ...) get gb18030's.
		return simplifiedchinese.GB18030, "gb18030"
	}
	if s, err := enc.NewDecoder().String(asciiProbe); err != nil || s != asciiProbe {
		return nil, ""
	}
	return enc, name
}

// labelAlias spells labels that feeds use but the WHATWG list does not know the way it does:
// windows_1251 and mac-cyrillic for windows-1251 and x-mac-cyrillic.
func labelAlias(label string) string {
	l := strings.ReplaceAll(strings.ToLower(label), "_", "-")
	switch l {
	case "mac-cyrillic", "maccyrillic":
		return "x-mac-cyrillic"
	case "macroman", "mac-roman":
		return "macintosh"
	}
	return l
}

// contentTypeCharset returns the charset parameter of a Content-Type value. It is lenient on
// purpose (spaces, quotes, odd parameter order) because mime.ParseMediaType rejects values that
// servers really send, such as `text/xml;charset= "us-ascii"`.
func contentTypeCharset(contentType string) string {
	i := strings.Index(strings.ToLower(contentType), "charset")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(contentType[i+len("charset"):], " \t")
	rest, ok := strings.CutPrefix(rest, "=")
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, ";")
	return strings.Trim(rest, " \t\"'")
}

// utf8WithNonASCII reports whether b is valid UTF-8 and has at least one multi-byte sequence.
func utf8WithNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return utf8.Valid(b)
		}
	}
	return false
}

// repairUTF8 returns b unchanged when it is valid UTF-8; otherwise a copy in which every byte
// that is not part of a valid sequence is read as windows-1252.
func repairUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			r = charmap.Windows1252.DecodeByte(b[0])
			size = 1
		}
		out = utf8.AppendRune(out, r)
		b = b[size:]
	}
	return out
}

// fixDeclaration rewrites the encoding named in an XML declaration to utf-8.
func fixDeclaration(b []byte) []byte {
	label, start, end := xmlDeclEncoding(b)
	if label == "" || strings.EqualFold(label, "utf-8") {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:start]...)
	out = append(out, "utf-8"...)
	return append(out, b[end:]...)
}

// xmlDeclEncoding returns the encoding pseudo-attribute of an XML declaration at the start of
// b (leading whitespace allowed) and the byte span of its value.
func xmlDeclEncoding(b []byte) (label string, start, end int) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	if !bytes.HasPrefix(b[i:], []byte("<?xml")) {
		return "", 0, 0
	}
	declEnd := bytes.Index(b[i:min(len(b), i+512)], []byte("?>"))
	if declEnd < 0 {
		return "", 0, 0
	}
	decl := b[i : i+declEnd]
	k := bytes.Index(decl, []byte("encoding"))
	if k < 0 {
		return "", 0, 0
	}
	j := k + len("encoding")
	j = skipSpace(decl, j)
	if j >= len(decl) || decl[j] != '=' {
		return "", 0, 0
	}
	j = skipSpace(decl, j+1)
	if j >= len(decl) || (decl[j] != '"' && decl[j] != '\'') {
		return "", 0, 0
	}
	q := bytes.IndexByte(decl[j+1:], decl[j])
	if q < 0 {
		return "", 0, 0
	}
	start = i + j + 1
	end = start + q
	return string(b[start:end]), start, end
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
