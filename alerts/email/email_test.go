package email_test

import (
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts/email"
	"github.com/newswatch/newswatch/alerts/email/smtptest"
	"github.com/newswatch/newswatch/alerts/notify"
)

func sampleAlert() notify.Alert {
	pub := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	return notify.Alert{
		ID: "a1b2c3", Topic: "dprk-russia", TopicName: "DPRK–Russia", Kind: notify.KindMatch,
		FiredAt: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
		Articles: []notify.Article{
			{ID: "x1", URL: "https://wire.example/troops", Title: "Pyongyang sends <troops> & more", Source: "wire", PublishedAt: pub,
				Matched: []string{"dprk", "russia"}, Snippet: "Troops were sent.",
				Copies: []notify.Copy{{ID: "x2", URL: "https://paper.example/t", Source: "paper"}, {ID: "x3", URL: "https://blog.example/t", Source: "blog"}}},
			{ID: "y1", URL: "javascript:alert(1)", Title: "Second", Source: "blog"},
		},
	}
}

// parts splits a received message into its plain-text and HTML parts.
func parts(t *testing.T, data []byte) (*mail.Message, string, string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	var text, html string
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p) // multipart decodes quoted-printable
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(body)
		case "text/html":
			html = string(body)
		}
	}
	return m, text, html
}

func TestDeliverWithStartTLSAndAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true, Username: "alerts", Password: "s3cret"})
	n := email.New(email.Config{
		Name: "ops-mail", SMTP: srv.Addr, From: "newswatch <alerts@newsroom.example>", To: []string{"desk@newsroom.example", "Ana <ana@newsroom.example>"},
		Username: "alerts", Password: "s3cret", StartTLS: true, TLS: &tls.Config{RootCAs: srv.RootCAs},
	})
	retry, err := n.Notify(t.Context(), sampleAlert())
	if err != nil {
		t.Fatalf("notify: retry=%v %v", retry, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want one per alert", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || !got.Authed || got.From != "alerts@newsroom.example" || len(got.To) != 2 {
		t.Errorf("session: tls=%v authed=%v from=%s to=%v", got.TLS, got.Authed, got.From, got.To)
	}
	m, text, html := parts(t, got.Data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subject != "[newswatch] DPRK–Russia: 2 new articles" {
		t.Errorf("subject %q", subject)
	}
	if id := m.Header.Get("Message-Id"); id != "<a1b2c3@newsroom.example>" {
		t.Errorf("Message-ID %q, want one derived from the alert id", id)
	}
	for _, want := range []string{"Pyongyang sends <troops> & more", "wire · 2026-12-02 09:30 UTC", "https://wire.example/troops", "also in: paper, blog", "matched: dprk, russia"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{`<a href="https://wire.example/troops">Pyongyang sends &lt;troops&gt; &amp; more</a>`, "also in: paper, blog"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "javascript:") {
		t.Errorf("HTML part links a javascript: URL:\n%s", html)
	}
}

func TestFailuresAreClassified(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true, Username: "alerts", Password: "s3cret"})
	base := email.Config{SMTP: srv.Addr, From: "alerts@newsroom.example", To: []string{"desk@newsroom.example"},
		Username: "alerts", Password: "s3cret", StartTLS: true, TLS: &tls.Config{RootCAs: srv.RootCAs}}

	srv.Refuse(451)
	if retry, err := email.New(base).Notify(t.Context(), sampleAlert()); err == nil || !retry {
		t.Errorf("451: retry=%v err=%v, want a retry", retry, err)
	}
	srv.Refuse(554)
	if retry, err := email.New(base).Notify(t.Context(), sampleAlert()); err == nil || retry {
		t.Errorf("554: retry=%v err=%v, want a permanent failure", retry, err)
	}
	srv.Refuse(0)

	wrong := base
	wrong.Password = "guess"
	retry, err := email.New(wrong).Notify(t.Context(), sampleAlert())
	if err == nil || retry {
		t.Errorf("bad password: retry=%v err=%v, want a permanent failure", retry, err)
	}
	if err != nil && strings.Contains(err.Error(), "guess") {
		t.Errorf("error shows the password: %v", err)
	}

	untrusted := base
	untrusted.TLS = nil // the self-signed certificate is not in the system roots
	if _, err := email.New(untrusted).Notify(t.Context(), sampleAlert()); err == nil {
		t.Error("delivered over TLS with an untrusted certificate")
	}

	plain := smtptest.Start(t, smtptest.Options{})
	required := base
	required.SMTP, required.Username, required.Password = plain.Addr, "", ""
	if _, err := email.New(required).Notify(t.Context(), sampleAlert()); err == nil {
		t.Error("starttls: true delivered to a server without STARTTLS")
	}
	if n := len(plain.Messages()); n != 0 {
		t.Errorf("%d messages sent in the clear", n)
	}
	required.StartTLS = false
	if _, err := email.New(required).Notify(t.Context(), sampleAlert()); err != nil || len(plain.Messages()) != 1 {
		t.Errorf("starttls off, plain server: %v, %d messages", err, len(plain.Messages()))
	}

	// Credentials are never sent in the clear: a permanent failure, not an endless retry.
	clear := base
	clear.SMTP, clear.StartTLS, clear.TLS = smtptest.Start(t, smtptest.Options{Username: "alerts", Password: "s3cret"}).Addr, false, nil
	if retry, err := email.New(clear).Notify(t.Context(), sampleAlert()); err == nil || retry {
		t.Errorf("AUTH without TLS: retry=%v err=%v, want a permanent failure", retry, err)
	}

	down := base
	down.SMTP = "127.0.0.1:1"
	if retry, err := email.New(down).Notify(t.Context(), sampleAlert()); err == nil || !retry {
		t.Errorf("server down: retry=%v err=%v, want a retry", retry, err)
	}
	if len(srv.Messages()) != 0 {
		t.Errorf("refused server stored %d messages", len(srv.Messages()))
	}
}

func TestValidate(t *testing.T) {
	err := email.Config{SMTP: "mail.example", From: "not an address", Username: "u"}.Validate()
	for _, want := range []string{"host:port", "from", "no recipients", "username and password"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, lacks %q", err, want)
		}
	}
	if !errors.Is(err, email.ErrConfig) {
		t.Error("not ErrConfig")
	}
	retry, err := email.New(email.Config{}).Notify(t.Context(), sampleAlert())
	if err == nil || retry {
		t.Errorf("invalid config: retry=%v err=%v, want a permanent failure", retry, err)
	}
}

func TestFormatSpikeAndEmpty(t *testing.T) {
	m := email.Format(notify.Alert{ID: "s", Topic: "t", Kind: notify.KindDigest, Summary: "Nothing today.", Digest: &notify.Digest{TotalStories: 0}})
	if m.Subject != "[newswatch] t: digest, 0 stories" || !strings.Contains(m.Text, "No articles.") || !strings.Contains(m.HTML, "Nothing today.") {
		t.Errorf("%+v", m)
	}
	var many notify.Alert
	for range email.MaxArticles + 5 {
		many.Articles = append(many.Articles, notify.Article{Title: "x", URL: "https://x.example/", Source: "s"})
	}
	if m := email.Format(many); !strings.Contains(m.Text, "and 5 more articles") {
		t.Errorf("long alert not cut: %d bytes", len(m.Text))
	}
}
