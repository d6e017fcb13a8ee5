package loadgen

import (
	"strconv"
	"strings"
)

// Kinds of change, carried in the published string so a subscriber knows
// which histogram a latency belongs to.
const (
	kindRegister = 'r' // the first publication; its latency is not a push of a change
	kindChurn    = 'c'
	kindStorm    = 's'
)

// basePort is the port of publisher 0; publishers past 2^24 use the next ports.
const basePort = 12200

// pubAddr returns the unique address of publisher n: 10.a.b.c:port, so a
// subscriber's list names its publishers without a lookup table.
func pubAddr(n int) string {
	var b strings.Builder
	b.Grow(24)
	b.WriteString("10.")
	b.WriteString(strconv.Itoa(n >> 16 & 255))
	b.WriteByte('.')
	b.WriteString(strconv.Itoa(n >> 8 & 255))
	b.WriteByte('.')
	b.WriteString(strconv.Itoa(n & 255))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(basePort + n>>24))
	return b.String()
}

// pubData returns what publisher n publishes at send time t (unix nanos),
// padded with 'x' to size bytes when it is shorter.
func pubData(n int, t int64, kind byte, size int) string {
	var b strings.Builder
	b.Grow(max(size, 64))
	b.WriteString(pubAddr(n))
	b.WriteString("?t=")
	b.WriteString(strconv.FormatInt(t, 10))
	b.WriteString("&c=")
	b.WriteByte(kind)
	b.WriteString("&pad=")
	for b.Len() < size {
		b.WriteByte('x')
	}
	return b.String()
}

// parseData reads back the publisher index, send time and kind of a string
// made by pubData. ok is false for anything else.
func parseData(s string) (n int, t int64, kind byte, ok bool) {
	rest, found := strings.CutPrefix(s, "10.")
	if !found {
		return 0, 0, 0, false
	}
	var oct [3]int
	for i := range oct {
		sep := byte('.')
		if i == 2 {
			sep = ':'
		}
		j := strings.IndexByte(rest, sep)
		if j < 0 {
			return 0, 0, 0, false
		}
		v, err := strconv.Atoi(rest[:j])
		if err != nil || v < 0 || v > 255 {
			return 0, 0, 0, false
		}
		oct[i] = v
		rest = rest[j+1:]
	}
	j := strings.IndexByte(rest, '?')
	if j < 0 {
		return 0, 0, 0, false
	}
	port, err := strconv.Atoi(rest[:j])
	if err != nil || port < basePort {
		return 0, 0, 0, false
	}
	rest, found = strings.CutPrefix(rest[j+1:], "t=")
	if !found {
		return 0, 0, 0, false
	}
	j = strings.IndexByte(rest, '&')
	if j < 0 {
		return 0, 0, 0, false
	}
	t, err = strconv.ParseInt(rest[:j], 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	rest, found = strings.CutPrefix(rest[j+1:], "c=")
	if !found || rest == "" {
		return 0, 0, 0, false
	}
	n = (port-basePort)<<24 | oct[0]<<16 | oct[1]<<8 | oct[2]
	return n, t, rest[0], true
}
