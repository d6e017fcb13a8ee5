package proto

import (
	"errors"
	"fmt"
)

// DefaultDataCenter names the data center of a node that does not name one.
const DefaultDataCenter = "dc1"

// Limits of the data-center configuration meta hands to data nodes; every
// decoder and the admin API enforce them.
const (
	MaxDataCenterLen   = 63  // bytes of a data center's name
	MaxRemoteDCs       = 16  // remote data centers one cluster links to
	MaxRemoteMetaAddrs = 16  // meta addresses listed for one remote data center
	MaxDCFilters       = 256 // entries of one remote data center's allow or deny list
)

// RemoteDC is one remote data center a cluster links to, as an operator
// configured it at meta (`roster ctl dc add`) and meta hands it to every
// data node: the slot leaders import the remote publishers of their slots
// from it.
type RemoteDC struct {
	Name      string   // the remote cluster's --datacenter
	MetaAddrs []string // host:port of the remote meta nodes (RPC)
	// Sync imports the remote DC's publishers; off keeps the link
	// configured but imports nothing (what was imported is dropped).
	Sync bool
	// PushRemote pushes the imported publishers to this DC's global
	// subscribers; off keeps importing but pushes local publishers only.
	PushRemote bool
	// Allow and Deny filter what is imported by dataInfoId or group:
	// patterns as the blacklist's (internal/acl.Match; a pattern with
	// "#@#" matches the whole dataInfoId, others its dataId). An empty
	// Allow allows everything; Deny wins over Allow.
	Allow, Deny []string
}

// ValidateDataCenterName reports whether s may name a data center: 1 to
// MaxDataCenterLen bytes of ASCII letters, digits, '-', '_' and '.'.
func ValidateDataCenterName(s string) error {
	if s == "" {
		return errors.New("empty data center name")
	}
	if len(s) > MaxDataCenterLen {
		return fmt.Errorf("data center name of %d bytes: at most %d", len(s), MaxDataCenterLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			continue
		}
		return fmt.Errorf("data center name %q: byte %d (%q) is not a letter, digit, '-', '_' or '.'", s, i, c)
	}
	return nil
}

// Validate checks a remote data center's configuration against the limits.
func (r *RemoteDC) Validate() error {
	if err := ValidateDataCenterName(r.Name); err != nil {
		return err
	}
	if len(r.MetaAddrs) == 0 || len(r.MetaAddrs) > MaxRemoteMetaAddrs {
		return fmt.Errorf("data center %s: %d meta addresses, want 1 to %d", r.Name, len(r.MetaAddrs), MaxRemoteMetaAddrs)
	}
	for _, a := range r.MetaAddrs {
		if a == "" || len(a) > MaxIDLen {
			return fmt.Errorf("data center %s: bad meta address %q", r.Name, a)
		}
	}
	if len(r.Allow) > MaxDCFilters || len(r.Deny) > MaxDCFilters {
		return fmt.Errorf("data center %s: %d allow and %d deny patterns, at most %d each", r.Name, len(r.Allow), len(r.Deny), MaxDCFilters)
	}
	for _, p := range append(r.Allow[:len(r.Allow):len(r.Allow)], r.Deny...) {
		if p == "" || len(p) > MaxIDLen {
			return fmt.Errorf("data center %s: bad filter pattern %q", r.Name, p)
		}
	}
	return nil
}

// DCImportStatus is what one data node reports of its import from one
// remote data center (the data node's GET /api/dc/status lists one per
// linked data center; meta's GET /api/dc/status and `roster ctl dc status`
// aggregate them over the data nodes).
type DCImportStatus struct {
	Name string `json:"name"` // the remote data center
	// LinkUp: every slot this node leads has a live stream from the remote
	// slot leader.
	LinkUp bool `json:"linkUp"`
	// SlotsLed and SlotsImporting count the slots this node leads and those
	// of them with a live stream.
	SlotsLed       int `json:"slotsLed"`
	SlotsImporting int `json:"slotsImporting"`
	// LagMillis is the age of the newest change applied from the remote DC
	// (0 when none yet); StaleMillis, when the link is down, how long the
	// last known state has been kept.
	LagMillis   int64 `json:"lagMillis"`
	StaleMillis int64 `json:"staleMillis"`
	// Publishers counts the remote publishers this node holds as leader.
	Publishers int64 `json:"publishers"`
	// LastRepair is when the last digest repair with the remote DC ended
	// (RFC 3339; empty before the first).
	LastRepair string `json:"lastRepair,omitempty"`
}

// dcSync and dcPushRemote are the flag bits of an encoded RemoteDC.
const (
	dcSync       = 1 << 0
	dcPushRemote = 1 << 1
)

// minRemoteDCSize is the smallest encoding of a RemoteDC: a one-byte name
// length and a one-byte name, one meta address of one byte with its count,
// the flags, two empty lists.
const minRemoteDCSize = 2 + 2 + 1 + 2

func appendRemoteDCs(dst []byte, dcs []RemoteDC) []byte {
	dst = appendUvarint(dst, uint64(len(dcs)))
	for i := range dcs {
		d := &dcs[i]
		dst = appendString(dst, d.Name)
		dst = appendStrings(dst, d.MetaAddrs)
		var flags byte
		if d.Sync {
			flags |= dcSync
		}
		if d.PushRemote {
			flags |= dcPushRemote
		}
		dst = append(dst, flags)
		dst = appendStrings(dst, d.Allow)
		dst = appendStrings(dst, d.Deny)
	}
	return dst
}

// readRemoteDCs reads a list appendRemoteDCs wrote: at most MaxRemoteDCs,
// each valid (RemoteDC.Validate), no name twice.
func readRemoteDCs(r *reader) []RemoteDC {
	n := r.count("remote data centers", minRemoteDCSize)
	if n > MaxRemoteDCs {
		r.fail("remote data centers")
		return nil
	}
	if n == 0 {
		return nil
	}
	dcs := make([]RemoteDC, n)
	for i := range dcs {
		d := &dcs[i]
		d.Name = r.string("remote data center name")
		d.MetaAddrs = r.strings("remote meta addresses", nil)
		flags := r.byte1("remote data center flags")
		if flags&^(dcSync|dcPushRemote) != 0 {
			r.fail("remote data center flags")
		}
		d.Sync, d.PushRemote = flags&dcSync != 0, flags&dcPushRemote != 0
		d.Allow = r.strings("remote data center allow list", nil)
		d.Deny = r.strings("remote data center deny list", nil)
		if r.err != nil {
			return nil
		}
		if d.Validate() != nil {
			r.fail("remote data center")
			return nil
		}
		for j := range i {
			if dcs[j].Name == d.Name {
				r.fail("remote data center named twice")
				return nil
			}
		}
	}
	return dcs
}
