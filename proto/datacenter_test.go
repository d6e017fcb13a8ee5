package proto

import (
	"strings"
	"testing"
)

func TestValidateDataCenterName(t *testing.T) {
	for _, ok := range []string{"dc1", "eu-west.2", "A_b", strings.Repeat("x", MaxDataCenterLen)} {
		if err := ValidateDataCenterName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "dc 1", "dc/1", "é", strings.Repeat("x", MaxDataCenterLen+1)} {
		if ValidateDataCenterName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRemoteDCValidate(t *testing.T) {
	good := RemoteDC{Name: "dc2", MetaAddrs: []string{"10.0.0.1:9614"}, Sync: true, Allow: []string{"com.example.*"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	many := make([]string, MaxDCFilters+1)
	for i := range many {
		many[i] = "x"
	}
	for name, r := range map[string]RemoteDC{
		"no metas":     {Name: "dc2"},
		"bad name":     {Name: "dc 2", MetaAddrs: []string{"a:1"}},
		"empty addr":   {Name: "dc2", MetaAddrs: []string{""}},
		"empty filter": {Name: "dc2", MetaAddrs: []string{"a:1"}, Deny: []string{""}},
		"many filters": {Name: "dc2", MetaAddrs: []string{"a:1"}, Allow: many},
	} {
		if r.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
