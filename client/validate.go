package client

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/roster-registry/roster/proto"
)

// Limits of the client's own: the registration limits it checks before
// sending, so that a request over them fails at once with a sentinel rather
// than as the session's bad request, are the protocol's (proto.MaxIDLen...).
const (
	maxNameLen  = 256  // bytes of a zone, app name or client id
	maxTokenLen = 4096 // bytes of a token
	// maxEcho bounds what an error message repeats of the caller's or the
	// session's input: a 70 KB data id must not come back as a 70 KB error.
	maxEcho = 128
)

// clip returns s, or its first maxEcho bytes and its length when longer;
// for error messages.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// validate reports the first field of cfg that cannot work, as an error
// wrapping ErrInvalid that names the field. It runs before defaults apply.
func (cfg *Config) validate() error {
	for i, a := range cfg.Sessions {
		if err := validAddr(a); err != nil {
			return fmt.Errorf("%w: Config.Sessions[%d] %q: %v", ErrInvalid, i, clip(a), err)
		}
	}
	if cfg.ServersURL != "" {
		u, err := url.Parse(cfg.ServersURL)
		switch {
		case err != nil:
			return fmt.Errorf("%w: Config.ServersURL %q: %v", ErrInvalid, clip(cfg.ServersURL), err)
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("%w: Config.ServersURL %q: scheme must be http or https", ErrInvalid, clip(cfg.ServersURL))
		case u.Host == "":
			return fmt.Errorf("%w: Config.ServersURL %q: no host", ErrInvalid, clip(cfg.ServersURL))
		}
	}
	for _, f := range [...]struct{ name, v string }{{"Zone", cfg.Zone}, {"AppName", cfg.AppName}, {"ClientID", cfg.ClientID}} {
		if msg := validName(f.v); msg != "" {
			return fmt.Errorf("%w: Config.%s %q: %s", ErrInvalid, f.name, clip(f.v), msg)
		}
	}
	if len(cfg.Token) > maxTokenLen {
		return fmt.Errorf("%w: Config.Token is %d bytes, limit %d", ErrInvalid, len(cfg.Token), maxTokenLen)
	}
	if cfg.LocalAddr != "" {
		if _, err := netip.ParseAddr(cfg.LocalAddr); err != nil {
			return fmt.Errorf("%w: Config.LocalAddr %q: not an IP address", ErrInvalid, clip(cfg.LocalAddr))
		}
	}
	for _, f := range [...]struct {
		name string
		neg  bool
	}{{"RequestTimeout", cfg.RequestTimeout < 0}, {"BackoffMin", cfg.BackoffMin < 0}, {"BackoffMax", cfg.BackoffMax < 0}, {"CacheMaxBytes", cfg.CacheMaxBytes < 0}} {
		if f.neg {
			return fmt.Errorf("%w: Config.%s is negative", ErrInvalid, f.name)
		}
	}
	return nil
}

// validAddr checks a session address is host:port with a port number.
func validAddr(a string) error {
	_, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("want host:port (e.g. \"localhost:9600\")")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", clip(port))
	}
	return nil
}

// validName returns what is wrong with a zone, app name or client id
// (bounded, printable), or "".
func validName(v string) string {
	if len(v) > maxNameLen {
		return fmt.Sprintf("%d bytes, limit %d", len(v), maxNameLen)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return "contains a control character"
		}
	}
	return ""
}

// validPublication checks what the session would refuse as a bad request,
// so it fails here with a sentinel and a message that names the field.
// (The dataInfoId is checked by DataInfoID.)
func validPublication(data []string, attrs map[string]string) error {
	if err := validData(data); err != nil {
		return err
	}
	if len(attrs) > proto.MaxAttrs {
		return &limitError{fmt.Sprintf("%d attributes, limit %d", len(attrs), proto.MaxAttrs), nil}
	}
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	if n > proto.MaxAttrsBytes {
		return &limitError{fmt.Sprintf("attributes are %d bytes, limit %d", n, proto.MaxAttrsBytes), nil}
	}
	return nil
}

// validData refuses an empty list or an empty entry: a subscriber could
// not tell it from no publisher at all.
func validData(data []string) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: no data to publish (Unpublish removes a publication)", ErrEmptyData)
	}
	if len(data) > proto.MaxDataItems {
		return &limitError{fmt.Sprintf("%d data entries, limit %d", len(data), proto.MaxDataItems), nil}
	}
	for i, d := range data {
		if d == "" {
			return fmt.Errorf("%w: data entry %d is empty", ErrEmptyData, i)
		}
	}
	return nil
}

// limitError is a request over one of the client's limits: it matches
// ErrTooLarge and ErrInvalid (it is not worth retrying), and also, when
// set, a more precise sentinel.
type limitError struct {
	msg  string
	also error
}

func (e *limitError) Error() string { return "over a limit: " + e.msg }
func (e *limitError) Is(target error) bool {
	return target == ErrTooLarge || target == ErrInvalid || (e.also != nil && target == e.also)
}
