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
