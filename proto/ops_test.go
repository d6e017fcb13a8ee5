package proto

import (
	"errors"
	"strings"
	"testing"
)

func TestParseBlockedIP(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		p, err := ParseBlockedIP(in)
		if want == "" {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%q: got %v, %v; want malformed", in, p, err)
			}
			return
		}
		if err != nil || p.String() != want {
			t.Fatalf("%q: got %v, %v; want %s", in, p, err, want)
		}
	}
	f("10.1.2.3", "10.1.2.3/32")
	f("::ffff:10.1.2.3", "10.1.2.3/32")
	f("10.1.2.3/16", "10.1.0.0/16")
	f("::ffff:10.1.0.0/112", "10.1.0.0/16")
	f("2001:db8::1", "2001:db8::1/128")
	f("2001:db8::/32", "2001:db8::/32")
	f("", "")
	f("0.0.0.0", "")
	f("::ffff:0.0.0.0", "") // unspecified once unmapped
	f("10.0.0.0/7", "")
	f("::ffff:10.0.0.0/90", "")
	f("fe80::1%eth0", "")
	f("10.1.2.3/33", "")
	f("host.example", "")
}

// TestOpsBounded: a heartbeat reply whose lists are over their limits or
// hold an invalid entry is malformed; one at the limits decodes.
func TestOpsBounded(t *testing.T) {
	body := func(o Ops) []byte { return (&NodeHeartbeatReply{ConfigEpoch: 1, Ops: o}).AppendBody(nil) }
	f := func(o Ops, ok bool) {
		t.Helper()
		var m NodeHeartbeatReply
		if err := m.Unmarshal(body(o)); (err == nil) != ok {
			t.Fatalf("lists of %d, %d, %d: %v, want ok %v", len(o.BlockedIPs), len(o.BlockedPublish), len(o.BlockedSubscribe), err, ok)
		}
	}
	ips := make([]string, MaxBlockedIPs+1)
	for i := range ips {
		ips[i] = "10.0." + itoa(uint64(i/250)) + "." + itoa(uint64(i%250+1))
	}
	ids := make([]string, MaxBlockedIDs+1)
	for i := range ids {
		ids[i] = "com.example.s" + itoa(uint64(i))
	}
	f(Ops{BlockedIPs: ips[:MaxBlockedIPs], BlockedPublish: ids[:MaxBlockedIDs], BlockedSubscribe: ids[:MaxBlockedIDs]}, true)
	f(Ops{BlockedIPs: ips}, false)
	f(Ops{BlockedPublish: ids}, false)
	f(Ops{BlockedSubscribe: ids}, false)
	f(Ops{BlockedIPs: []string{"not-an-ip"}}, false)
	f(Ops{BlockedPublish: []string{"two words"}}, false)
	f(Ops{BlockedSubscribe: []string{strings.Repeat("p", MaxPatternLen+1)}}, false)
	f(Ops{OffZones: []string{"a zone"}}, false)
	f(Ops{StoppedZones: []string{strings.Repeat("z", MaxZoneLen+1)}}, false)
	zones := make([]string, MaxZones+1)
	for i := range zones {
		zones[i] = "z" + itoa(uint64(i))
	}
	f(Ops{OffZones: zones[:MaxZones], StoppedZones: zones[:MaxZones]}, true)
	f(Ops{StoppedZones: zones}, false)
	f(Ops{GrayIPs: ips[:MaxGrayIPs+1]}, false)
	f(Ops{GrayIPs: []string{"::ffff:10.0.0.1"}}, false) // not canonical
	f(Ops{OffWithSub: []string{"224.0.0.1"}}, false)
}

func TestCheckClientIP(t *testing.T) {
	f := func(s string, ok bool) {
		t.Helper()
		if err := CheckClientIP(s); (err == nil) != ok {
			t.Fatalf("%q: %v, want ok %v", s, err, ok)
		}
	}
	f("10.0.0.1", true)
	f("2001:db8::1", true)
	f("2001:DB8::1", false)
	f("::ffff:10.0.0.1", false)
	f("0.0.0.0", false)
	f("255.255.255.255", false)
	f("10.0.0.1:80", false)
	f("", false)
}

// TestSwitchesBounded: a known switch out of its range, too many switches
// or a malformed name make a reply malformed; an unknown name is kept.
func TestSwitchesBounded(t *testing.T) {
	f := func(sw []Switch, ok bool) {
		t.Helper()
		var m NodeHeartbeatReply
		err := m.Unmarshal((&NodeHeartbeatReply{ConfigEpoch: 1, Ops: Ops{Switches: sw}}).AppendBody(nil))
		if (err == nil) != ok {
			t.Fatalf("%v: %v, want ok %v", sw, err, ok)
		}
		if ok && len(m.Ops.Switches) != len(sw) {
			t.Fatalf("%v decoded as %v", sw, m.Ops.Switches)
		}
	}
	f([]Switch{{"push-debounce", 10_000}, {"client-max-publishers", -1}, {"later-switch", -5}}, true)
	f([]Switch{{"push-debounce", 10_001}}, false)
	f([]Switch{{"client-max-publishers", 0}}, false)
	f([]Switch{{"version-scan", 99}}, false)
	f([]Switch{{"bad name", 1}}, false)
	many := make([]Switch, MaxSwitches+1)
	for i := range many {
		many[i] = Switch{"s" + itoa(uint64(i)), 1}
	}
	f(many, false)
	f(many[:MaxSwitches], true)
}
