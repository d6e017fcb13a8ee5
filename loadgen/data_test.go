package loadgen

import "testing"

func TestPubDataRoundTrip(t *testing.T) {
	f := func(n int, ts int64, kind byte, size int) {
		t.Helper()
		s := pubData(n, ts, kind, size)
		if size > 0 && len(s) < size {
			t.Fatalf("pubData(%d) is %d bytes, want at least %d", n, len(s), size)
		}
		gn, gt, gk, ok := parseData(s)
		if !ok || gn != n || gt != ts || gk != kind {
			t.Fatalf("parseData(%q) = %d, %d, %c, %v; want %d, %d, %c", s, gn, gt, gk, ok, n, ts, kind)
		}
	}
	f(0, 1, kindRegister, 0)
	f(255, 1700000000000000000, kindChurn, 100)
	f(1<<16+3, 42, kindStorm, 512)
	f(5<<24+7, 42, kindChurn, 10)
}

func TestParseDataRejects(t *testing.T) {
	f := func(s string) {
		t.Helper()
		if _, _, _, ok := parseData(s); ok {
			t.Fatalf("parseData(%q) accepted", s)
		}
	}
	f("")
	f("127.0.0.1:80")
	f("10.0.0.1:12200")
	f("10.0.0.300:12200?t=1&c=r")
	f("10.0.0.1:80?t=1&c=r")
	f("10.0.0.1:12200?t=x&c=r")
	f("10.0.0.1:12200?t=1&c=")
}

func TestPubAddrUnique(t *testing.T) {
	seen := map[string]int{}
	for _, n := range []int{0, 1, 255, 256, 65535, 65536, 1 << 24, 1<<24 + 1} {
		a := pubAddr(n)
		if m, dup := seen[a]; dup {
			t.Fatalf("pubAddr(%d) = pubAddr(%d) = %s", n, m, a)
		}
		seen[a] = n
	}
}
