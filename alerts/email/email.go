// Package email delivers alerts as e-mail over SMTP, with STARTTLS and authentication, through
// github.com/wneessen/go-mail: one message per alert with a plain-text and an HTML part.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/newswatch/newswatch/alerts/notify"
)

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// ErrConfig is wrapped by every configuration problem that Validate reports.
var ErrConfig = errors.New("email: invalid config")

// Config configures one e-mail receiver.
type Config struct {
	// Name identifies the receiver in errors, logs and metrics.
	Name string
	// SMTP is the server's host:port.
	SMTP string
	// From is the sender address; To the recipients.
	From string
	To   []string
	// Username and Password, when set, authenticate (the server's strongest offered mechanism
	// among SCRAM, CRAM-MD5, PLAIN and LOGIN). PLAIN and LOGIN are used only after STARTTLS,
	// so a server that offers neither TLS nor a challenge mechanism refuses the delivery
	// permanently. The password never appears in errors.
	Username, Password string
	// StartTLS requires the connection to be upgraded with STARTTLS; without it, STARTTLS is
	// still used when the server offers it.
	StartTLS bool
	// TLS is the TLS configuration for STARTTLS (nil: system roots, the server's host name).
	TLS *tls.Config
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
}

// Validate reports every problem at once. The error never contains the password.
func (c Config) Validate() error {
	var errs []error
	if host, port, err := net.SplitHostPort(c.SMTP); err != nil || host == "" {
		errs = append(errs, fmt.Errorf("%w: smtp %q is not host:port", ErrConfig, c.SMTP))
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		errs = append(errs, fmt.Errorf("%w: smtp port %q is not a port number", ErrConfig, port))
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("%w: from %q: %v", ErrConfig, c.From, err))
	}
	if len(c.To) == 0 {
		errs = append(errs, fmt.Errorf("%w: no recipients in to", ErrConfig))
	}
	for _, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			errs = append(errs, fmt.Errorf("%w: to %q: %v", ErrConfig, to, err))
		}
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, fmt.Errorf("%w: give both username and password, or neither", ErrConfig))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("%w: timeout %s is negative", ErrConfig, c.Timeout))
	}
	return errors.Join(errs...)
}

// Notifier sends alerts through one SMTP server. It is safe for concurrent use: each delivery
// opens its own connection.
type Notifier struct {
	cfg     Config
	invalid error
}

// New returns a notifier for cfg. A config that does not Validate yields a notifier whose
// every delivery fails permanently with the validation error.
func New(cfg Config) *Notifier {
	if cfg.Name == "" {
		cfg.Name = "email"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Notifier{cfg: cfg, invalid: cfg.Validate()}
}

// Name returns the receiver's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// Notify sends the alert as one message. Its Message-ID is derived from the alert id, so a
// redelivery after a lost acknowledgement can be recognised by the mail system. A temporary
// SMTP failure (4xx) or a connection failure is retried; a permanent one (5xx: unknown
// recipient, refused sender, failed authentication) is not.
func (n *Notifier) Notify(ctx context.Context, a notify.Alert) (retry bool, err error) {
	if n.invalid != nil {
		return false, fmt.Errorf("email %s: %w", n.cfg.Name, n.invalid)
	}
	msg, err := n.message(a)
	if err != nil {
		return false, fmt.Errorf("email %s: alert %s: %w", n.cfg.Name, a.ID, err)
	}
	client, err := n.client()
	if err != nil {
		return false, fmt.Errorf("email %s: %w", n.cfg.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return retryable(err), fmt.Errorf("email %s: deliver alert %s via %s: %w", n.cfg.Name, a.ID, n.cfg.SMTP, err)
	}
	return false, nil
}

func (n *Notifier) message(a notify.Alert) (*gomail.Msg, error) {
	f := Format(a)
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(n.cfg.From); err != nil {
		return nil, err
	}
	if err := m.To(n.cfg.To...); err != nil {
		return nil, err
	}
	m.Subject(f.Subject)
	m.SetMessageIDWithValue(messageID(a.ID, n.cfg.From))
	m.SetDateWithValue(a.FiredAt)
	m.SetGenHeader(gomail.HeaderXMailer, "newswatch")
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Newswatch-Alert-Id", a.ID)
	m.SetGenHeader("X-Newswatch-Topic", a.Topic)
	m.SetBodyString(gomail.TypeTextPlain, f.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, f.HTML)
	return m, nil
}

// messageID is <alert-id@sender's domain>; go-mail adds the angle brackets.
func messageID(alertID, from string) string {
	domain := "newswatch.invalid"
	if addr, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(addr.Address, "@"); ok && d != "" {
			domain = d
		}
	}
	return alertID + "@" + domain
}

func (n *Notifier) client() (*gomail.Client, error) {
	host, portStr, _ := net.SplitHostPort(n.cfg.SMTP)
	port, _ := strconv.Atoi(portStr)
	policy := gomail.TLSOpportunistic
	if n.cfg.StartTLS {
		policy = gomail.TLSMandatory
	}
	tlsCfg := n.cfg.TLS
	if tlsCfg == nil {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tlsCfg = tlsCfg.Clone()
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = host
	}
	opts := []gomail.Option{
		gomail.WithPort(port), gomail.WithTLSPolicy(policy), gomail.WithTLSConfig(tlsCfg),
		gomail.WithTimeout(n.cfg.Timeout),
	}
	if n.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(n.cfg.Username), gomail.WithPassword(n.cfg.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s: %w", n.cfg.SMTP, err)
	}
	return c, nil
}

// retryable says whether a send failure may pass: SMTP 4xx replies and failures to connect
// are retried; 5xx replies (unknown recipient, refused sender, failed authentication) are
// permanent.
func retryable(err error) bool {
	if errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) {
		// go-mail sends credentials only over TLS: the server must offer STARTTLS.
		return false
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code >= 500 && code < 600 {
			return false
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return false
	}
	return true
}
