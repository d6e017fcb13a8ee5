package data

import (
	"errors"
	"fmt"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// ParseRemoteDC reads a remote data center as the data role's --remote-dc
// flag spells it: NAME=META[,META...] followed by any of ";allow=P[,P...]",
// ";deny=P[,P...]" and ";nopush" (import without pushing to global
// subscribers). Sync is on. It is the static form of what an operator
// stores at meta (roster ctl dc add), for a node whose meta lists none.
func ParseRemoteDC(s string) (proto.RemoteDC, error) {
	parts := strings.Split(s, ";")
	name, addrs, ok := strings.Cut(parts[0], "=")
	if !ok {
		return proto.RemoteDC{}, fmt.Errorf("remote data center %q: want NAME=META[,META...]", s)
	}
	r := proto.RemoteDC{Name: name, MetaAddrs: splitNonEmpty(addrs), Sync: true, PushRemote: true}
	for _, p := range parts[1:] {
		key, val, _ := strings.Cut(p, "=")
		switch key {
		case "allow":
			r.Allow = splitNonEmpty(val)
		case "deny":
			r.Deny = splitNonEmpty(val)
		case "nopush":
			r.PushRemote = false
		default:
			return proto.RemoteDC{}, fmt.Errorf("remote data center %q: unknown option %q (allow=, deny=, nopush)", s, p)
		}
	}
	if err := r.Validate(); err != nil {
		return proto.RemoteDC{}, err
	}
	return r, nil
}

func splitNonEmpty(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// validateRemoteDCs checks the static links of Config.RemoteDCs.
func validateRemoteDCs(own string, rs []proto.RemoteDC) error {
	if len(rs) > proto.MaxRemoteDCs {
		return fmt.Errorf("%d remote data centers, at most %d", len(rs), proto.MaxRemoteDCs)
	}
	seen := map[string]bool{}
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			return err
		}
		if rs[i].Name == own || seen[rs[i].Name] {
			return errors.New("remote data center " + rs[i].Name + " is this one, or listed twice")
		}
		seen[rs[i].Name] = true
	}
	return nil
}
