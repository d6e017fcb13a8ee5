package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/lifecycle"
	"github.com/roster-registry/roster/netio"
)

// Defaults of LoaderConfig.
const (
	DefaultPollInterval = 5 * time.Second
	// ExpiryWarning is how long before a certificate expires the loader
	// starts warning about it.
	ExpiryWarning = 7 * 24 * time.Hour
	// expiryLogEvery spaces the warnings about one loader's expiring certificates.
	expiryLogEvery = time.Hour
)

// LoaderConfig names the files a Loader serves.
type LoaderConfig struct {
	CertFile, KeyFile string // PEM certificate (chain) and its private key; required
	// CAFile is the PEM CA that signs the peers' certificates: required
	// for nodes; for a client port, clients must present a certificate it
	// signed when it is set.
	CAFile string
	// Role and Usage label the expiry metrics:
	// roster_tls_cert_expiry_timestamp_seconds{role,usage,kind="cert"|"ca"}.
	Role, Usage string
	// PollInterval is how often the files' modification times are checked;
	// 0 = DefaultPollInterval. SIGHUP reloads at once.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Loader serves a certificate, its key and a CA from files and reloads
// them when the files change (their size or modification time, checked
// every PollInterval) and on SIGHUP. A file that fails to load is logged
// and the previous certificates are kept. It is safe for concurrent use.
type Loader struct {
	cfg LoaderConfig
	log *slog.Logger
	cur atomic.Pointer[netio.Certs]

	reloadMu sync.Mutex
	stamps   [3]stamp // of the cert, key and CA files as last read

	certExpiry, caExpiry *metrics.Gauge
	expiryLog            netio.LogThrottle

	loop lifecycle.Goroutine
}

type stamp struct {
	size int64
	mod  time.Time
}

// NewLoader loads the files once; an error here is the caller's to report
// (a node must not start without its certificates).
func NewLoader(cfg LoaderConfig) (*Loader, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Loader{cfg: cfg, log: cfg.Logger.With("component", "certs", "cert", cfg.CertFile)}
	l.expiryLog.Every = expiryLogEvery
	label := func(kind string) string {
		return fmt.Sprintf("roster_tls_cert_expiry_timestamp_seconds{role=%q,usage=%q,kind=%q}", cfg.Role, cfg.Usage, kind)
	}
	l.certExpiry = metrics.GetOrCreateGauge(label("cert"), nil)
	if cfg.CAFile != "" {
		l.caExpiry = metrics.GetOrCreateGauge(label("ca"), nil)
	}
	if err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Certs returns the certificates loaded last; netio calls it for every
// handshake, so a reload takes effect on the next connection.
func (l *Loader) Certs() *netio.Certs { return l.cur.Load() }

// Reload loads the files now. On an error the previous certificates stay.
func (l *Loader) Reload() error {
	l.reloadMu.Lock()
	defer l.reloadMu.Unlock()
	// A failed load is not retried until the files change again (or
	// SIGHUP): one error line per change, not one per poll.
	l.stamps = l.stat()
	cert, err := tls.LoadX509KeyPair(l.cfg.CertFile, l.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("cannot load certificate %s and key %s: %w", l.cfg.CertFile, l.cfg.KeyFile, err)
	}
	now := time.Now()
	leaf := cert.Leaf
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return fmt.Errorf("cannot load certificate %s: %w (valid %s to %s)", l.cfg.CertFile, ErrExpired,
			leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
	}
	next := &netio.Certs{Cert: &cert}
	var caCert *x509.Certificate
	if l.cfg.CAFile != "" {
		p, err := os.ReadFile(l.cfg.CAFile)
		if err != nil {
			return fmt.Errorf("cannot load CA %s: %w", l.cfg.CAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(p) {
			return fmt.Errorf("cannot load CA %s: %w", l.cfg.CAFile, ErrBadPEM)
		}
		if caCert, err = parseCert(p); err != nil {
			return fmt.Errorf("cannot load CA %s: %w", l.cfg.CAFile, err)
		}
		next.CA = pool
	}
	l.cur.Store(next)
	l.certExpiry.Set(float64(leaf.NotAfter.Unix()))
	if caCert != nil {
		l.caExpiry.Set(float64(caCert.NotAfter.Unix()))
	}
	l.checkExpiry(leaf, caCert)
	return nil
}

// checkExpiry warns (once an hour at most) about a certificate that
// expires within ExpiryWarning.
func (l *Loader) checkExpiry(certs ...*x509.Certificate) {
	for _, c := range certs {
		if c == nil {
			continue
		}
		if left := time.Until(c.NotAfter); left < ExpiryWarning {
			l.expiryLog.Warn(l.log, "a TLS certificate expires soon; replace its file (it reloads without a restart)",
				"subject", c.Subject.String(), "notAfter", c.NotAfter.Format(time.RFC3339), "left", left.Round(time.Minute))
		}
	}
}

// stat reads the files' stamps; a missing file has a zero stamp.
func (l *Loader) stat() [3]stamp {
	var out [3]stamp
	for i, p := range []string{l.cfg.CertFile, l.cfg.KeyFile, l.cfg.CAFile} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			out[i] = stamp{size: fi.Size(), mod: fi.ModTime()}
		}
	}
	return out
}

// changed reports whether the files differ from when they were last read.
func (l *Loader) changed() bool {
	l.reloadMu.Lock()
	defer l.reloadMu.Unlock()
	now := l.stat()
	for i := range now {
		if now[i].size != l.stamps[i].size || !now[i].mod.Equal(l.stamps[i].mod) {
			return true
		}
	}
	return false
}

// Start watches the files and SIGHUP until Stop.
func (l *Loader) Start(context.Context) error {
	// SIGHUP is caught before Start returns, so a signal sent right after
	// reloads rather than killing the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	if !l.loop.Start(func(ctx context.Context) { l.watch(ctx, hup) }) {
		signal.Stop(hup)
		return ErrStarted
	}
	return nil
}

// Stop stops watching and waits for the watcher. It is idempotent.
func (l *Loader) Stop(ctx context.Context) error {
	if err := l.loop.Stop(ctx); err != nil {
		return fmt.Errorf("cannot stop the certificate loader: %w", err)
	}
	return nil
}

func (l *Loader) watch(ctx context.Context, hup chan os.Signal) {
	defer signal.Stop(hup)
	t := time.NewTicker(l.cfg.PollInterval)
	defer t.Stop()
	for {
		var why string
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "SIGHUP"
		case <-t.C:
			if !l.changed() {
				l.checkExpiry(l.Certs().Cert.Leaf)
				continue
			}
			why = "files changed"
		}
		if err := l.Reload(); err != nil {
			l.log.Error("cannot reload TLS certificates; keeping the ones loaded before", "trigger", why, "err", err)
			continue
		}
		l.log.Info("TLS certificates reloaded", "trigger", why, "notAfter", l.Certs().Cert.Leaf.NotAfter.Format(time.RFC3339))
	}
}
