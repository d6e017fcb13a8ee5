package store

import (
	"errors"
	"reflect"
	"testing"
)

func TestConfig(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := testContext(t)
		s := b.open(t)

		put := func(k, v string, fence uint64, want error) {
			t.Helper()
			err := s.PutConfig(ctx, k, []byte(v), fence)
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("put %q fence %d: got %v, want %v", k, fence, err, want)
			}
		}
		del := func(k string, fence uint64, want error) {
			t.Helper()
			err := s.DeleteConfig(ctx, k, fence)
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("delete %q fence %d: got %v, want %v", k, fence, err, want)
			}
		}
		get := func(k, want string, wantFound bool) {
			t.Helper()
			v, found, err := s.GetConfig(ctx, k)
			if err != nil || found != wantFound || string(v) != want {
				t.Fatalf("get %q: got %q found=%v err=%v, want %q found=%v", k, v, found, err, want, wantFound)
			}
		}
		list := func(prefix string, want map[string][]byte) {
			t.Helper()
			got, err := s.ListConfig(ctx, prefix)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("list %q: got %q err=%v, want %q", prefix, got, err, want)
			}
		}

		get("clientOff/ips", "", false)
		list("", map[string][]byte{})
		put("clientOff/ips", "10.0.0.1,10.0.0.2", 1, nil)
		get("clientOff/ips", "10.0.0.1,10.0.0.2", true)
		put("clientOff/ips", "10.0.0.1", 1, nil) // overwrite
		get("clientOff/ips", "10.0.0.1", true)
		put("switch/push", "", 1, nil) // empty value
		get("switch/push", "", true)
		put("switch/Push", "on", 1, nil) // keys are case sensitive
		put("switch%", "x", 1, nil)      // no LIKE wildcards
		put("switch_", "y", 1, nil)
		put("app/\xff\xff", "z", 1, nil)
		list("switch/", map[string][]byte{"switch/push": {}, "switch/Push": []byte("on")})
		list("switch%", map[string][]byte{"switch%": []byte("x")})
		list("app/\xff", map[string][]byte{"app/\xff\xff": []byte("z")})
		list("clientOff/", map[string][]byte{"clientOff/ips": []byte("10.0.0.1")})
		list("nothing", map[string][]byte{})
		all, err := s.ListConfig(ctx, "")
		if err != nil || len(all) != 6 {
			t.Fatalf("list all: got %d keys err=%v, want 6", len(all), err)
		}

		// A newer leader fences the old one out of every write, including
		// keys the newer one never touched and keys it deleted.
		put("switch/push", "off", 2, nil)
		put("switch/push", "on", 1, ErrFenced)
		put("fresh", "x", 1, ErrFenced)
		del("switch_", 1, ErrFenced)
		get("switch_", "y", true)
		del("switch_", 2, nil)
		get("switch_", "", false)
		put("switch_", "back", 1, ErrFenced)
		get("switch_", "", false)
		del("never-there", 2, nil)
		get("switch/push", "off", true)

		// Fences are shared with the slot table.
		if err := s.SaveSlotTable(ctx, testSlotTable(1), 3); err != nil {
			t.Fatal(err)
		}
		put("switch/push", "on", 2, ErrFenced)
		put("switch/push", "on", 3, nil)

		if err := s.PutConfig(ctx, "", nil, 3); !errors.Is(err, ErrInvalid) {
			t.Fatalf("put an empty key: got %v, want ErrInvalid", err)
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	f := func(prefix, want string, wantOK bool) {
		t.Helper()
		got, ok := prefixEnd(prefix)
		if got != want || ok != wantOK {
			t.Fatalf("prefixEnd(%q) = %q, %v; want %q, %v", prefix, got, ok, want, wantOK)
		}
	}
	f("", "", false)
	f("a", "b", true)
	f("ab", "ac", true)
	f("a\xff", "b", true)
	f("\xff\xff", "", false)
}
