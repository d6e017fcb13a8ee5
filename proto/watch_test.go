package proto

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigDataInfoID(t *testing.T) {
	id := ConfigDataInfoID("app.flags")
	if k, ok := ConfigKeyOf(id); !ok || k != "app.flags" || !IsConfigID(id) {
		t.Fatalf("ConfigKeyOf(%q) = %q, %v", id, k, ok)
	}
	if _, ok := ConfigKeyOf("app.flags#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"); ok {
		t.Fatal("a DEFAULT_GROUP id is not a config id")
	}
	if !IsConfigID("k#@#other#@#" + ConfigGroup) {
		t.Fatal("any instance id in ConfigGroup is a config id")
	}
}

func TestCheckConfigKeyAndValue(t *testing.T) {
	for _, k := range []string{"", "a b", "a#@#b", strings.Repeat("k", MaxConfigKeyLen+1), "\xff", "a\n"} {
		if err := CheckConfigKey(k); !errors.Is(err, ErrMalformed) {
			t.Errorf("CheckConfigKey(%q) = %v", k, err)
		}
	}
	if err := CheckConfigKey(strings.Repeat("k", MaxConfigKeyLen)); err != nil {
		t.Error(err)
	}
	if err := CheckConfigValue(strings.Repeat("v", MaxConfigValue)); err != nil {
		t.Error(err)
	}
	for _, v := range []string{strings.Repeat("v", MaxConfigValue+1), "\xff"} {
		if err := CheckConfigValue(v); !errors.Is(err, ErrMalformed) {
			t.Errorf("CheckConfigValue(%d bytes) = %v", len(v), err)
		}
	}
}

func TestConfigSetRefuses(t *testing.T) {
	for name, m := range map[string]*ConfigSet{
		"unsorted":  {Rev: 1, Entries: []ConfigEntry{{Key: "b", Version: 1}, {Key: "a", Version: 1}}},
		"repeated":  {Rev: 1, Entries: []ConfigEntry{{Key: "a", Version: 1}, {Key: "a", Version: 2}}},
		"version 0": {Rev: 1, Entries: []ConfigEntry{{Key: "a"}}},
		"bad key":   {Rev: 1, Entries: []ConfigEntry{{Key: "a b", Version: 1}}},
		"too large": {Rev: 1, Entries: []ConfigEntry{{Key: "a", Version: 1, HasValue: true, Value: strings.Repeat("v", MaxConfigValue+1)}}},
	} {
		var got ConfigSet
		if err := got.Unmarshal(m.AppendBody(nil)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Unmarshal = %v, want ErrMalformed", name, err)
		}
	}
	// The values together are bounded too.
	big := &ConfigSet{Rev: 1}
	v := strings.Repeat("v", MaxConfigValue)
	for i := 0; i <= MaxConfigBytes/MaxConfigValue; i++ {
		big.Entries = append(big.Entries, ConfigEntry{Key: string(rune('a'+i/26)) + string(rune('a'+i%26)), Version: 1, HasValue: true, Value: v})
	}
	if err := new(ConfigSet).Unmarshal(big.AppendBody(nil)); !errors.Is(err, ErrMalformed) {
		t.Errorf("values over MaxConfigBytes: Unmarshal = %v", err)
	}
}
