package parse

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"
)

const cyrillicRSS = `<rss version="2.0"><channel><title>Новости</title>` +
	`<item><title>Пхеньян и Москва</title><link>https://ru.example.com/1</link></item></channel></rss>`

// cp1251 encodes the Cyrillic and ASCII of s in windows-1251.
func cp1251(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for _, r := range s {
		switch {
		case r < 0x80:
			out = append(out, byte(r))
		case r >= 'А' && r <= 'я':
			out = append(out, byte(r-'А'+0xC0))
		default:
			t.Fatalf("cp1251: cannot encode %q", r)
		}
	}
	return out
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	out := make([]byte, 2*len(units))
	for i, u := range units {
		if bigEndian {
			binary.BigEndian.PutUint16(out[2*i:], u)
		} else {
			binary.LittleEndian.PutUint16(out[2*i:], u)
		}
	}
	return out
}

func utf32Bytes(s string, bigEndian bool) []byte {
	var out []byte
	for _, r := range "\uFEFF" + s {
		if bigEndian {
			out = binary.BigEndian.AppendUint32(out, uint32(r))
		} else {
			out = binary.LittleEndian.AppendUint32(out, uint32(r))
		}
	}
	return out
}

func TestParseCharset(t *testing.T) {
	decl := func(enc string) string { return `<?xml version="1.0" encoding="` + enc + `"?>` }
	tests := []struct {
		name        string
		body        []byte
		contentType string
		wantTitle   string
	}{
		{"charset from Content-Type", cp1251(t, cyrillicRSS), "application/rss+xml; charset=windows-1251", "Новости"},
		{"lenient Content-Type", cp1251(t, cyrillicRSS), `text/xml;Charset= "cp1251"`, "Новости"},
		{"declaration", cp1251(t, decl("windows-1251")+cyrillicRSS), "", "Новости"},
		{"declaration beats Content-Type", cp1251(t, decl("windows-1251")+cyrillicRSS), "text/xml; charset=iso-8859-1", "Новости"},
		{"declared alias", cp1251(t, decl("windows_1251")+cyrillicRSS), "", "Новости"},
		{"utf-8 beats a wrong Content-Type", []byte(cyrillicRSS), "text/xml; charset=iso-8859-1", "Новости"},
		{"utf-8 beats a wrong declaration", []byte(decl("ISO-8859-1") + cyrillicRSS), "", "Новости"},
		{"declared latin-1", []byte(decl("ISO-8859-1") + "<rss><channel><title>Caf\xe9 \x93Men\xfc\x94</title></channel></rss>"), "", "Café “Menü”"},
		{"unknown label, utf-8 bytes", []byte(decl("x-bogus") + cyrillicRSS), "", "Новости"},
		{"utf-16 declared in ascii", []byte(decl("utf-16") + cyrillicRSS), "", "Новости"},
		{"utf-8 bom", append([]byte("\xef\xbb\xbf"), decl("utf-8")+cyrillicRSS...), "", "Новости"},
		{"utf-16le bom", utf16Bytes(decl("utf-16")+cyrillicRSS, false, true), "", "Новости"},
		{"utf-16be bom", utf16Bytes(decl("utf-16")+cyrillicRSS, true, true), "", "Новости"},
		{"utf-16be no bom", utf16Bytes(decl("utf-16")+cyrillicRSS, true, false), "", "Новости"},
		{"utf-16le no bom", utf16Bytes(cyrillicRSS, false, false), "", "Новости"},
		{"utf-16 bom beats Content-Type", utf16Bytes(cyrillicRSS, false, true), "text/xml; charset=koi8-r", "Новости"},
		{"utf-32be", utf32Bytes(decl("utf-32")+cyrillicRSS, true), "", "Новости"},
		{"utf-32le", utf32Bytes(cyrillicRSS, false), "", "Новости"},
		{"stray latin-1 byte in utf-8", []byte("<rss><channel><title>Caf\xe9 \u2013 Men\xfc</title></channel></rss>"), "", "Café – Menü"},
		{"undeclared latin-1", []byte("<rss><channel><title>Caf\xe9</title></channel></rss>"), "", "Café"},
		{"euc-kr", readFeed(t, "feedparser/tests/encoding/euc-kr-item.xml"), "", ""},
		{"json feed with charset", []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"Новости","items":[]}`), "application/feed+json; charset=utf-8", "Новости"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.body, tc.contentType, "")
			if f.Title != tc.wantTitle {
				t.Errorf("title = %q, want %q", f.Title, tc.wantTitle)
			}
			if len(f.Items) > 0 && strings.HasPrefix(tc.wantTitle, "Новости") && f.Items[0].Title != "Пхеньян и Москва" {
				t.Errorf("item title = %q", f.Items[0].Title)
			}
		})
	}
	f := mustParse(t, readFeed(t, "feedparser/tests/encoding/euc-kr-item.xml"), "", "")
	if got := f.Items[0].Summary; got != "\ub144" {
		t.Errorf("euc-kr description = %q, want %q", got, "\ub144")
	}
}

func TestXMLDeclEncoding(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<?xml version="1.0" encoding="koi8-r"?><rss/>`, "koi8-r"},
		{"  \n<?xml version='1.0' encoding = 'EUC-KR' ?>", "EUC-KR"},
		{`<?xml version="1.0"?><rss encoding="x"/>`, ""},
		{`<rss/>`, ""},
		{`<?xml encoding="unterminated`, ""},
		{`<?xml version="1.0" encoding=koi8-r?>`, ""},
	}
	for _, tc := range tests {
		got, start, end := xmlDeclEncoding([]byte(tc.in))
		if got != tc.want || (got != "" && tc.in[start:end] != got) {
			t.Errorf("xmlDeclEncoding(%q) = %q [%d:%d], want %q", tc.in, got, start, end, tc.want)
		}
	}
	fixed := string(fixDeclaration([]byte(`<?xml version="1.0" encoding="koi8-r" standalone="yes"?><rss/>`)))
	if fixed != `<?xml version="1.0" encoding="utf-8" standalone="yes"?><rss/>` {
		t.Errorf("fixDeclaration = %q", fixed)
	}
}
