package kratosregistry

import (
	"testing"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
)

func TestEncodeDecode(t *testing.T) {
	f := func(si *registry.ServiceInstance) {
		t.Helper()
		got := decode(si.Name, client.Update{Zones: map[string][]string{"z": encode(si)}})
		if len(got) != 1 || !got[0].Equal(si) {
			t.Errorf("decode(encode(%+v)) = %+v", si, got)
		}
	}
	f(&registry.ServiceInstance{ID: "1", Name: "echo", Version: "v1", Metadata: map[string]string{"region": "eu", "a b": "c&d"},
		Endpoints: []string{"grpc://127.0.0.1:9000?isSecure=false", "http://127.0.0.1:8000"}})
	f(&registry.ServiceInstance{ID: "id?&=", Name: "echo", Metadata: map[string]string{}, Endpoints: []string{"grpc://[::1]:9000"}})
}

func TestDecodeForeignData(t *testing.T) {
	got := decode("echo", client.Update{Zones: map[string][]string{"z": {"10.0.0.1:9000?weight=1"}}})
	if len(got) != 1 || got[0].ID != "10.0.0.1:9000?weight=1" || got[0].Endpoints[0] != "10.0.0.1:9000?weight=1" {
		t.Errorf("decode of a plain address = %+v", got)
	}
}
