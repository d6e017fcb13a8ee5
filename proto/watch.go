package proto

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Watched config (SOFARegistry's provide data watched by a Configurator):
// meta stores small values under keys; sessions keep a copy, fetched with
// ConfigFetch, and push each key to its watchers as a datum of
// ConfigDataInfoID(key) with at most one publisher whose only data item is
// the value (none when the key is absent).

// ConfigGroup is the group reserved for watched config keys: clients may
// subscribe (watch) in it but not publish.
const ConfigGroup = "ROSTER_CONFIG"

// ConfigPublisherID is the registerId of the one publisher of a config datum.
const ConfigPublisherID = "roster-config"

// Limits of the watched config store, enforced by meta on writes and by
// every decoder: one fetch reply carries at most MaxConfigBytes of values,
// well under a frame's DefaultMaxBody.
const (
	MaxConfigKeyLen = 240      // bytes of a key (a meta store key is at most 255, with its prefix)
	MaxConfigValue  = 64 << 10 // bytes of one value
	MaxConfigKeys   = 1024     // keys in the store
	MaxConfigBytes  = 8 << 20  // values of every key together
)

const configSuffix = "#@#DEFAULT_INSTANCE_ID#@#" + ConfigGroup

// ConfigDataInfoID is the dataInfoId watchers of key subscribe to.
func ConfigDataInfoID(key string) string { return key + configSuffix }

// ConfigKeyOf returns the key of a config dataInfoId and whether id is one.
func ConfigKeyOf(id string) (string, bool) {
	k, ok := strings.CutSuffix(id, configSuffix)
	return k, ok && k != ""
}

// IsConfigID reports whether id is in ConfigGroup (whatever its instance
// id), so a publish to it can be refused.
func IsConfigID(id string) bool { return strings.HasSuffix(id, "#@#"+ConfigGroup) }

// CheckConfigKey reports why k is not a config key: empty, longer than
// MaxConfigKeyLen, holding spaces, control characters or "#@#", or not UTF-8.
func CheckConfigKey(k string) error {
	if k == "" || len(k) > MaxConfigKeyLen || strings.ContainsFunc(k, isControlOrSpace) ||
		strings.Contains(k, "#@#") || !utf8.ValidString(k) {
		return fmt.Errorf("cannot accept config key %q: a key is 1 to %d bytes of UTF-8 without spaces or \"#@#\": %w",
			clipKey(k), MaxConfigKeyLen, ErrMalformed)
	}
	return nil
}

// CheckConfigValue reports why v is not a config value: longer than
// MaxConfigValue or not UTF-8 (values travel as text in JSON and pushes).
func CheckConfigValue(v string) error {
	if len(v) > MaxConfigValue || !utf8.ValidString(v) {
		return fmt.Errorf("cannot accept a config value of %d bytes: want at most %d bytes of UTF-8: %w", len(v), MaxConfigValue, ErrMalformed)
	}
	return nil
}

func clipKey(k string) string {
	if len(k) > 64 {
		return k[:64] + "..."
	}
	return k
}

// ConfigFetch asks the meta leader for the watched config (session →
// meta). Since is the highest key version the session holds (0: none);
// the answer is a ConfigSet. When Rev equals the leader's revision the
// leader holds the request until the config changes or WaitMs passes
// without an answer (the session then asks again): a change reaches the
// sessions in one round trip, not a polling interval.
type ConfigFetch struct {
	Rev    uint64 // the revision of the set the session holds
	Since  uint64
	WaitMs uint32 // 0: answer at once
}

func (*ConfigFetch) Type() Type { return TypeConfigFetch }

func (m *ConfigFetch) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, m.Rev)
	dst = appendUvarint(dst, m.Since)
	return appendUvarint(dst, uint64(m.WaitMs))
}

func (m *ConfigFetch) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Rev = r.uvarint("config revision")
	m.Since = r.uvarint("config since")
	m.WaitMs = r.uint32v("config wait")
	return r.done()
}

// ConfigEntry is one key of a ConfigSet. HasValue is false when the value
// was left out because the session holds this version already.
type ConfigEntry struct {
	Key      string
	Version  uint64 // grows with every write of the store; never 0
	HasValue bool
	Value    string
}

// ConfigSet answers a ConfigFetch: the leader's revision and every key with
// its version (a key left out is deleted), with the value of each key whose
// version is above the fetch's Since. Keys are sorted and unique.
type ConfigSet struct {
	Rev     uint64
	Entries []ConfigEntry
}

func (*ConfigSet) Type() Type { return TypeConfigSet }

func (m *ConfigSet) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, m.Rev)
	dst = appendUvarint(dst, uint64(len(m.Entries)))
	for _, e := range m.Entries {
		dst = appendString(dst, e.Key)
		dst = appendUvarint(dst, e.Version)
		dst = appendBool(dst, e.HasValue)
		if e.HasValue {
			dst = appendString(dst, e.Value)
		}
	}
	return dst
}

// Unmarshal decodes a ConfigSet; keys out of order, repeated or malformed,
// a version of 0, a value too large or the values together over
// MaxConfigBytes make it malformed.
func (m *ConfigSet) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Rev = r.uvarint("config revision")
	n := r.count("config entries", 3) // a key byte, a version, a flag
	if n > MaxConfigKeys {
		r.fail("config entries")
		n = 0
	}
	m.Entries = grow(m.Entries, n)
	total := 0
	for i := range m.Entries {
		e := &m.Entries[i]
		*e = ConfigEntry{Key: r.string("config key"), Version: r.uvarint("config version"), HasValue: r.bool("config has value")}
		if e.HasValue {
			e.Value = r.string("config value")
			total += len(e.Value)
		}
		if r.err != nil {
			break
		}
		if CheckConfigKey(e.Key) != nil || e.Version == 0 || (i > 0 && m.Entries[i-1].Key >= e.Key) ||
			(e.HasValue && CheckConfigValue(e.Value) != nil) || total > MaxConfigBytes {
			r.fail("config entry")
			break
		}
	}
	if r.err != nil {
		m.Entries = m.Entries[:0]
	}
	return r.done()
}
