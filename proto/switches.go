package proto

import (
	"fmt"
	"strings"
)

// Switch is a session setting an operator changed live: it overrides the
// session's flag of the same name until it is unset (meta's
// /api/switches). Part of Ops.
type Switch struct {
	Name  string
	Value int64
}

// SwitchSpec describes a switch: its name (the session flag it overrides),
// unit and range. A limit's -1 turns it off, as its flag's does.
type SwitchSpec struct {
	Name     string
	Unit     string // "ms", "bytes", "per second" or "" (a count)
	Min, Max int64
	Help     string
}

// Bounds of the switches a heartbeat reply may carry.
const (
	MaxSwitches     = 64
	maxSwitchName   = 64
	minSwitchLength = 2 // a one-byte name length and a one-byte value
)

// SwitchSpecs are the switches sessions apply, by name.
var SwitchSpecs = []SwitchSpec{
	{Name: "push-debounce", Unit: "ms", Min: 0, Max: 10_000, Help: "a changed service is fetched and pushed this long after its last change"},
	{Name: "push-max-debounce", Unit: "ms", Min: 0, Max: 60_000, Help: "under continuous changes, a push waits at most this long after the first change"},
	{Name: "push-compress-above", Unit: "bytes", Min: -1, Max: 16 << 20, Help: "push bodies larger than this are compressed; -1 never"},
	{Name: "version-scan", Unit: "ms", Min: 100, Max: 3_600_000, Help: "how often subscribed versions are compared with the data leaders"},
	{Name: "client-register-rate", Unit: "per second", Min: -1, Max: 10_000_000, Help: "registrations per second of one connection (connections opened after the change)"},
	{Name: "client-register-burst", Min: -1, Max: 100_000_000, Help: "burst of client-register-rate (connections opened after the change)"},
	{Name: "session-register-rate", Unit: "per second", Min: -1, Max: 100_000_000, Help: "registrations per second of all the session's clients"},
	{Name: "session-register-burst", Min: -1, Max: 1_000_000_000, Help: "burst of session-register-rate"},
	{Name: "client-max-publishers", Min: -1, Max: 10_000_000, Help: "publishers one connection may hold"},
	{Name: "client-max-subscribed-services", Min: -1, Max: 10_000_000, Help: "services one connection may subscribe to"},
	{Name: "client-max-data-bytes", Unit: "bytes", Min: 1, Max: 16 << 20, Help: "data bytes of one publisher"},
	{Name: "session-max-clients", Min: -1, Max: 10_000_000, Help: "client connections of one session (connections accepted after the change)"},
	{Name: "session-max-clients-per-ip", Min: -1, Max: 10_000_000, Help: "client connections of one session from one IP (connections accepted after the change)"},
}

// FindSwitch returns the spec of the switch named name.
func FindSwitch(name string) (*SwitchSpec, bool) {
	for i := range SwitchSpecs {
		if SwitchSpecs[i].Name == name {
			return &SwitchSpecs[i], true
		}
	}
	return nil, false
}

// Check reports why v is not a value of the switch.
func (s *SwitchSpec) Check(v int64) error {
	if v < s.Min || v > s.Max || v == 0 && s.Min == -1 {
		return fmt.Errorf("cannot set %s to %d: want %d to %d%s: %w", s.Name, v, s.Min, s.Max, offNote(s), ErrMalformed)
	}
	return nil
}

func offNote(s *SwitchSpec) string {
	if s.Min == -1 {
		return " (not 0; -1 turns the limit off)"
	}
	return ""
}

func appendSwitches(dst []byte, sw []Switch) []byte {
	dst = appendUvarint(dst, uint64(len(sw)))
	for _, s := range sw {
		dst = appendString(dst, s.Name)
		dst = appendVarint(dst, s.Value)
	}
	return dst
}

// readSwitches decodes what appendSwitches wrote. A switch a session does
// not know is kept (a newer meta may send it; the session ignores it); one
// it knows out of its range makes the reply malformed.
func readSwitches(r *reader) []Switch {
	n := r.count("switches", minSwitchLength)
	if n > MaxSwitches {
		r.fail("switches")
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]Switch, n)
	for i := range out {
		out[i] = Switch{Name: r.string("switch name"), Value: r.varint("switch value")}
		if r.err != nil {
			return nil
		}
		name := out[i].Name
		if name == "" || len(name) > maxSwitchName || strings.ContainsFunc(name, isControlOrSpace) {
			r.fail("switch name")
			return nil
		}
		if spec, ok := FindSwitch(name); ok && spec.Check(out[i].Value) != nil {
			r.fail("switch value")
			return nil
		}
	}
	return out
}
