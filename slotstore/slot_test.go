package slotstore

import (
	"errors"
	"testing"
)

func TestSlotOf(t *testing.T) {
	f := func(id string, slots int, want uint32) {
		t.Helper()
		if got := SlotOf(id, slots); got != want {
			t.Fatalf("SlotOf(%q, %d) = %d, want %d", id, slots, got, want)
		}
	}
	// crc32c("123456789") = 0xe3069283, the standard check value.
	f("123456789", 256, 0x83)
	f("123456789", 16, 0x3)
	f("123456789", 1<<31, 0x63069283)
	f("com.alipay.test.demo.service#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", 256, 89) // crc 0x57056f59
	f("a#@#b#@#c", 256, 194)                                                         // crc 0x7ef6aec2
	f("", 256, 0)
	f("123456789", 1, 0)
	// Not a power of two: no panic, slot 0.
	f("123456789", 0, 0)
	f("123456789", -4, 0)
	f("123456789", 100, 0)
}

func TestDataInfoID(t *testing.T) {
	f := func(dataID, instanceID, group, want string) {
		t.Helper()
		got := DataInfoID(dataID, instanceID, group)
		if got != want {
			t.Fatalf("DataInfoID(%q, %q, %q) = %q, want %q", dataID, instanceID, group, got, want)
		}
		d, i, g, err := ParseDataInfoID(got)
		if err != nil {
			t.Fatalf("ParseDataInfoID(%q): %v", got, err)
		}
		if d != dataID || (instanceID != "" && i != instanceID) || (group != "" && g != group) {
			t.Fatalf("ParseDataInfoID(%q) = %q, %q, %q", got, d, i, g)
		}
	}
	f("svc", "", "", "svc#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP")
	f("svc", "i", "g", "svc#@#i#@#g")
	f("com.foo.Bar:1.0", "", "SOFA", "com.foo.Bar:1.0#@#DEFAULT_INSTANCE_ID#@#SOFA")
}

func TestParseDataInfoIDBad(t *testing.T) {
	f := func(s string) {
		t.Helper()
		if _, _, _, err := ParseDataInfoID(s); !errors.Is(err, ErrBadDataInfoID) {
			t.Fatalf("ParseDataInfoID(%q) err = %v, want ErrBadDataInfoID", s, err)
		}
	}
	f("")
	f("svc")
	f("svc#@#i")
	f("#@#i#@#g")
	f("svc#@##@#g")
	f("svc#@#i#@#")
	f("svc#@#i#@#g#@#x")
}
