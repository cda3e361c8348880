package config

import (
	"fmt"
	"net"
	"net/mail"
	"strconv"
)

// email checks an e-mail receiver: smtp as host:port, a sender and at least one recipient,
// each a valid address, and username and password together.
func (v *validator) email(p string, n Notify) {
	if v.required(p+".smtp", n.SMTP) {
		host, port, err := net.SplitHostPort(n.SMTP)
		if num, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || num < 1 || num > 65535 {
			v.errorf(p+".smtp", "%s is not host:port, e.g. smtp.example.org:587", quote(n.SMTP))
		}
	}
	if v.required(p+".from", n.From) {
		if _, err := mail.ParseAddress(n.From); err != nil {
			v.errorf(p+".from", "%s is not an e-mail address: %v", quote(n.From), err)
		}
	}
	if len(n.To) == 0 {
		v.errorf(p+".to", "an e-mail receiver needs at least one recipient in to")
	}
	for i, to := range n.To {
		if _, err := mail.ParseAddress(to); err != nil {
			v.errorf(fmt.Sprintf("%s.to[%d]", p, i), "%s is not an e-mail address: %v", quote(to), err)
		}
	}
	if (n.Username == "") != (n.Password == "") {
		v.errorf(p+".password", "give both username and password, or neither")
	}
	if n.URL != "" {
		v.errorf(p+".url", "an e-mail receiver has no url: give smtp, from and to")
	}
}
