package events

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConnConfig says how to reach JetStream: an embedded server under DataDir when URL is empty,
// else an external server or cluster.
type ConnConfig struct {
	DataDir string
	// Listen is the embedded server's client address for the nats CLI; "" keeps it in-process.
	Listen   string
	URL      string
	Creds    string
	Token    string
	User     string
	Password string
	TLSCA    string
	TLSCert  string
	TLSKey   string
	// TLSServerName overrides the name checked in the server's certificate.
	TLSServerName string
	Replicas      int
	// MaxStore caps the embedded server's file storage in bytes (0: JetStream derives it from
	// the free disk).
	MaxStore int64
	// Name is the client connection name shown by the server.
	Name string
}

// Conn is a live connection to JetStream, and the embedded server behind it if there is one.
type Conn struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	Replicas int
	srv      *server.Server
	lock     *os.File
	log      *slog.Logger
	closing  atomic.Bool
	writes   writeHealth   // store-full state of the last write (storefull.go)
	stalls   atomic.Uint64 // consumers found stalled and recreated (tail.go)
	// recent is what this process appended to the article stream last (recent.go).
	recent *recentWrites
}

// Connect starts the embedded server (when cfg.URL is empty) and connects to JetStream.
func Connect(ctx context.Context, cfg ConnConfig, log *slog.Logger) (*Conn, error) {
	c := &Conn{Replicas: max(cfg.Replicas, 1), log: log, recent: newRecentWrites(recentLimit)}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if c.closing.Load() {
				return
			}
			log.Warn("NATS disconnected", "error", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("NATS async error", "error", err)
		}),
	}
	serverURL := cfg.URL
	if serverURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		lock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		c.lock = lock
		srv, err := startEmbedded(cfg.DataDir, cfg.Listen, cfg.MaxStore)
		if err != nil {
			c.shutdownServer()
			return nil, err
		}
		c.srv = srv
		opts = append(opts, nats.InProcessServer(srv))
		c.Replicas = 1
	} else {
		auth, err := authOptions(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, auth...)
		opts = append(opts, nats.RetryOnFailedConnect(false))
	}
	nc, err := nats.Connect(serverURL, opts...)
	if err != nil {
		c.shutdownServer()
		return nil, fmt.Errorf("connect to NATS %s: %w", redactURL(serverURL), err)
	}
	c.NC = nc
	js, err := jetstream.New(nc)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	c.JS = js
	if err := waitForJetStream(ctx, js); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// waitForJetStream blocks until JetStream answers; a cluster without a meta leader does not.
func waitForJetStream(ctx context.Context, js jetstream.JetStream) error {
	var last error
	for attempt := 0; attempt < 60; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(cctx)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
			return fmt.Errorf("JetStream is not enabled on the NATS server: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("JetStream did not answer: %w", last)
}

func authOptions(cfg ConnConfig) ([]nats.Option, error) {
	var opts []nats.Option
	if cfg.Creds != "" {
		if _, err := os.Stat(cfg.Creds); err != nil {
			return nil, fmt.Errorf("nats.creds: %w", err)
		}
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.TLSCA != "" || cfg.TLSCert != "" || cfg.TLSServerName != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
		if cfg.TLSCA != "" {
			pem, err := os.ReadFile(cfg.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("nats.tls.ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("nats.tls.ca: no certificates in %s", cfg.TLSCA)
			}
			tc.RootCAs = pool
		}
		if cfg.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("nats.tls.cert/key: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// startEmbedded runs a single JetStream server storing under dataDir with fsync on every write,
// so an acknowledged event survives a power cut.
func startEmbedded(dataDir, listen string, maxStore int64) (*server.Server, error) {
	opts := &server.Options{
		ServerName:        "newswatch",
		JetStream:         true,
		StoreDir:          dataDir,
		SyncAlways:        true,
		NoSigs:            true,
		NoLog:             true,
		DontListen:        listen == "",
		JetStreamMaxStore: maxStore,
		// Projection snapshots can outgrow the 1 MiB default.
		MaxPayload: 8 << 20,
	}
	if listen != "" {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("nats.listen %q: %w", listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("nats.listen %q: bad port", listen)
		}
		opts.Host, opts.Port = host, p
		if p == 0 {
			opts.Port = server.RANDOM_PORT
		} else if err := probeListen(listen); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not start (is %s in use, or %s not writable?)", listen, dataDir)
	}
	return srv, nil
}

// probeListen binds and releases the client port, so that a port in use fails at once with
// the bind error; the server itself would keep retrying and only time out.
func probeListen(listen string) error {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("nats.listen %s: %w", listen, err)
	}
	return l.Close()
}

// ClientURL is the embedded server's client URL for tools, or "" when it only runs in-process
// or the connection is external.
func (c *Conn) ClientURL() string {
	if c.srv == nil || c.srv.Addr() == nil {
		return ""
	}
	return c.srv.ClientURL()
}

// Connected reports whether the client is connected to NATS.
func (c *Conn) Connected() bool { return c.NC != nil && c.NC.IsConnected() }

// Close drains the connection and stops the embedded server, if any.
func (c *Conn) Close() {
	c.closing.Store(true)
	if c.NC != nil {
		_ = c.NC.Drain()
		// Drain is asynchronous; wait briefly so in-flight acks reach the server.
		deadline := time.Now().Add(5 * time.Second)
		for !c.NC.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		c.NC.Close()
	}
	c.shutdownServer()
}

func (c *Conn) shutdownServer() {
	if c.srv != nil {
		c.srv.Shutdown()
		c.srv.WaitForShutdown()
	}
	if c.lock != nil {
		_ = c.lock.Close()
		c.lock = nil
	}
}

// redactURL hides user info in a comma-separated list of server URLs.
func redactURL(list string) string {
	if list == "" {
		return "(embedded)"
	}
	parts := strings.Split(list, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("<redacted>")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
