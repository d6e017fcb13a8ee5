package proto

import (
	"fmt"
	"net/netip"
	"strings"
)

// Limits of the operators' lists (see Ops). They bound what meta accepts
// from an operator and what a session accepts in a heartbeat reply: the
// lists travel in every config change to every session (at most ~400 KB of
// IPs and ~256 KB of patterns each).
const (
	MaxBlockedIPs = 10_000 // client IPs and prefixes refused at handshake
	MaxBlockedIDs = 1_000  // dataInfoId patterns in one refusal list
	MaxClientOff  = 10_000 // client-off IPs (NodeHeartbeatReply.ClientOff, Ops.OffWithSub)
	MaxZones      = 100    // zones in one zone list
	MaxZoneLen    = 128    // bytes of a zone name
	MaxGrayIPs    = 1_000  // client IPs on the gray list
)

// Ops is the operators' part of the cluster config meta hands to sessions
// (docs/http-api.md, blacklists).
type Ops struct {
	// BlockedIPs are client IPs ("10.1.2.3") and prefixes ("10.1.0.0/16")
	// whose handshakes are refused; connected clients of them are cut off.
	BlockedIPs []string
	// BlockedPublish and BlockedSubscribe are dataInfoId patterns refused
	// for publish and for subscribe: "*" matches any run of characters,
	// "?" one; a pattern without "#@#" is matched against the dataId, one
	// with it against the whole dataInfoId.
	BlockedPublish, BlockedSubscribe []string

	// OffZones are zones whose clients are all off: their publishers are
	// held back as those of the client-off IPs are.
	OffZones []string
	// OffWithSub are client-off IPs (also in the client-off list) whose
	// subscribers get no pushes either.
	OffWithSub []string
	// StoppedZones are zones whose clients get no pushes.
	StoppedZones []string
	// GrayIPs are the client IPs still pushed to while pushes are stopped
	// cluster-wide: a change is tried on a few machines first.
	GrayIPs []string
	// Switches override session flags live (switches.go), sorted by name.
	Switches []Switch
}

// lists returns o's lists in wire order.
func (o *Ops) lists() []*[]string {
	return []*[]string{&o.BlockedIPs, &o.BlockedPublish, &o.BlockedSubscribe, &o.OffZones, &o.OffWithSub, &o.StoppedZones, &o.GrayIPs}
}

func (o *Ops) empty() bool {
	for _, l := range o.lists() {
		if len(*l) > 0 {
			return false
		}
	}
	return len(o.Switches) == 0
}

func (o *Ops) append(dst []byte) []byte {
	for _, l := range o.lists() {
		dst = appendStrings(dst, *l)
	}
	return appendSwitches(dst, o.Switches)
}

// read decodes what append wrote; a list over its limit or an entry that
// fails its check makes the reply malformed.
func (o *Ops) read(r *reader) {
	o.BlockedIPs = readChecked(r, "blocked ips", MaxBlockedIPs, CheckBlockedIP)
	o.BlockedPublish = readChecked(r, "blocked publish patterns", MaxBlockedIDs, CheckBlockedID)
	o.BlockedSubscribe = readChecked(r, "blocked subscribe patterns", MaxBlockedIDs, CheckBlockedID)
	o.OffZones = readChecked(r, "off zones", MaxZones, CheckZone)
	o.OffWithSub = readChecked(r, "client-off ips with subscribers", MaxClientOff, CheckClientIP)
	o.StoppedZones = readChecked(r, "push-stopped zones", MaxZones, CheckZone)
	o.GrayIPs = readChecked(r, "gray ips", MaxGrayIPs, CheckClientIP)
	o.Switches = readSwitches(r)
}

func readChecked(r *reader, what string, limit int, check func(string) error) []string {
	list := r.strings(what, nil)
	if len(list) > limit {
		r.fail(what)
		return nil
	}
	for _, s := range list {
		if r.err == nil && check(s) != nil {
			r.fail(what)
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list
}

// ParseBlockedIP reads a blacklist entry: an IP address or a CIDR prefix,
// returned as a prefix (an address as a /32 or /128), IPv4-mapped IPv6
// unmapped and the prefix masked.
func ParseBlockedIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("cannot parse blocked prefix %q: %w", s, ErrMalformed)
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() {
			if bits < 96 {
				return netip.Prefix{}, fmt.Errorf("cannot accept blocked prefix %q: an IPv4-mapped prefix shorter than /96: %w", s, ErrMalformed)
			}
			a, bits = a.Unmap(), bits-96
		}
		if a.Zone() != "" || bits < 8 {
			// /0 to /7 would refuse a large part of the Internet: a typo,
			// not a blacklist.
			return netip.Prefix{}, fmt.Errorf("cannot accept blocked prefix %q: zoned, or shorter than /8: %w", s, ErrMalformed)
		}
		return netip.PrefixFrom(a, bits).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	// Unmapped before the checks: "::ffff:0.0.0.0" is 0.0.0.0.
	a = a.Unmap()
	if err != nil || a.Zone() != "" || a.IsUnspecified() {
		return netip.Prefix{}, fmt.Errorf("cannot parse blocked IP %q: %w", s, ErrMalformed)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CheckBlockedIP reports why s is not a blacklist entry (ParseBlockedIP).
func CheckBlockedIP(s string) error {
	_, err := ParseBlockedIP(s)
	return err
}

// CheckZone reports why z is not a zone name: empty, longer than
// MaxZoneLen, or holding spaces, control characters or commas.
func CheckZone(z string) error {
	if z == "" || len(z) > MaxZoneLen || strings.ContainsFunc(z, isControlOrSpace) || strings.Contains(z, ",") {
		return fmt.Errorf("cannot accept zone %q: a zone is 1 to %d bytes without spaces or commas: %w", z, MaxZoneLen, ErrMalformed)
	}
	return nil
}

// CheckClientIP reports why s is not a client IP in canonical form (no
// port, zone or IPv4-mapped form; not unspecified, multicast or broadcast).
func CheckClientIP(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil || a.String() != s || a.Is4In6() || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return fmt.Errorf("cannot accept client IP %q: %w", s, ErrMalformed)
	}
	return nil
}

// CheckBlockedID reports why p is not a blocked dataInfoId pattern: empty,
// longer than MaxPatternLen, or holding spaces or control characters.
func CheckBlockedID(p string) error {
	if p == "" || len(p) > MaxPatternLen || strings.ContainsFunc(p, isControlOrSpace) {
		return fmt.Errorf("cannot accept pattern %q: a pattern is 1 to %d bytes without spaces: %w", p, MaxPatternLen, ErrMalformed)
	}
	return nil
}
