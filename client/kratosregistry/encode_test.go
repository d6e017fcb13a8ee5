package kratosregistry

import (
	"errors"
	"testing"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
)

// TestDecodeOlderAdapters: instances registered by adapters that put their
// fields in the endpoints' query are still found.
func TestDecodeOlderAdapters(t *testing.T) {
	got := decode("echo", client.Update{Zones: map[string][]string{"z": {
		"grpc://127.0.0.1:9000?isSecure=false&kratos.id=1&kratos.md.a+b=c%26d&kratos.md.region=eu&kratos.version=v1",
		"http://127.0.0.1:8000?kratos.id=1&kratos.md.a+b=c%26d&kratos.md.region=eu&kratos.version=v1",
	}}})
	want := &registry.ServiceInstance{ID: "1", Name: "echo", Version: "v1", Metadata: map[string]string{"region": "eu", "a b": "c&d"},
		Endpoints: []string{"grpc://127.0.0.1:9000?isSecure=false", "http://127.0.0.1:8000"}}
	if len(got) != 1 || !got[0].Equal(want) {
		t.Errorf("decode = %+v", got)
	}
}

func TestDecodeForeignData(t *testing.T) {
	got := decode("echo", client.Update{Zones: map[string][]string{"z": {"10.0.0.1:9000?weight=1"}}})
	if len(got) != 1 || got[0].ID != "10.0.0.1:9000?weight=1" || got[0].Endpoints[0] != "10.0.0.1:9000?weight=1" {
		t.Errorf("decode of a plain address = %+v", got)
	}
}

func TestEncodeRefusesReservedKeys(t *testing.T) {
	for _, k := range []string{AttrID, AttrVersion} {
		_, _, err := encode(&registry.ServiceInstance{ID: "1", Endpoints: []string{"x"}, Metadata: map[string]string{k: "v"}})
		if !errors.Is(err, ErrReservedKey) {
			t.Errorf("metadata key %s: %v", k, err)
		}
	}
}
