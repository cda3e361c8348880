package main

import (
	"fmt"
	"net/mail"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/alerts/email/smtptest"
)

// TestEmailReceiver: an alert reaches a local SMTP server as one e-mail, after a temporary
// refusal is retried.
func TestEmailReceiver(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/wire.xml", rss("Wire", item{wireTitle, "https://wire.example.com/kursk", wireSummary}))
	fs.set("/paper.xml", rss("Paper", item{wireTitle, "https://paper.example.net/world/kursk-troops", "Paper: " + wireSummary}))
	fs.set("/blog.xml", rss("Blog"))
	// A local relay without TLS or AUTH (STARTTLS and AUTH are tested in alerts/email).
	smtpd := smtptest.Start(t, smtptest.Options{})
	smtpd.Refuse(451)
	extra := topicsYAML + fmt.Sprintf(`alerts:
  - {topic: dprk-russia, kind: match}
notify:
  - {name: desk-mail, type: email, smtp: "%s", from: "newswatch <alerts@newsroom.example>", to: [desk@newsroom.example], max_age: 1h}
`, smtpd.Addr)
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, extra))
	r.waitPolled(t, 1, "wire", "paper", "blog")
	waitFor(t, "a refused delivery attempt", func() bool { return smtpd.Attempts() >= 1 })
	smtpd.Refuse(0)
	waitFor(t, "the e-mail", func() bool { return len(smtpd.Messages()) >= 1 })
	stored := r.storedAlerts(t)
	msgs := smtpd.Messages()
	if len(msgs) != 1 || len(stored) != 1 {
		t.Fatalf("%d e-mails for %d alerts, want one for one", len(msgs), len(stored))
	}
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("X-Newswatch-Alert-Id") != stored[0].ID {
		t.Errorf("e-mail headers %v, want alert %s", m.Header, stored[0].ID)
	}
	// Undo quoted-printable soft line breaks; the story's article is whichever outlet's the
	// alert names.
	body := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(string(msgs[0].Data))
	if !strings.Contains(body, stored[0].Articles[0].URL) || !strings.Contains(body, "Pyongyang sends troops") {
		t.Errorf("e-mail does not link the story:\n%s", body)
	}
	if n := r.metric(t, "newswatch_alert_deliveries_total", map[string]string{"receiver": "desk-mail", "result": "retry"}); n < 1 {
		t.Errorf("retries counted %v, want ≥ 1", n)
	}
}
