package kratosregistry_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/kratosregistry"
)

// TestMetadataAsAttributes: an instance's metadata, id and version are its
// publisher's attributes, its endpoints the data as given, so any roster
// subscriber reads them (Update.Instances, a "weight" for the gRPC
// resolver); kratos gets them back, and a change of metadata reaches
// watchers.
func TestMetadataAsAttributes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := kratosregistry.New(rc)
	si := &registry.ServiceInstance{ID: "m1", Name: "meta", Version: "v1",
		Metadata: map[string]string{"weight": "20", "a b": "c&d"}, Endpoints: []string{"grpc://127.0.0.1:9000?isSecure=false"}}
	if err := r.Register(ctx, si); err != nil {
		t.Fatal(err)
	}

	updates := make(chan client.Update, 16)
	sub, err := rc.Subscribe(ctx, client.Subscription{DataID: "meta"}, func(u client.Update) { updates <- u })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe(ctx)
	wantAttrs := map[string]string{"weight": "20", "a b": "c&d", kratosregistry.AttrID: "m1", kratosregistry.AttrVersion: "v1"}
	waitInstance := func(want map[string]string) client.Instance {
		t.Helper()
		for {
			select {
			case u := <-updates:
				if in := u.Instances(); len(in) == 1 && maps.Equal(in[0].Attrs, want) {
					return in[0]
				}
			case <-ctx.Done():
				t.Fatalf("no instance with attributes %v", want)
			}
		}
	}
	in := waitInstance(wantAttrs)
	if !slices.Equal(in.Data, si.Endpoints) || in.Weight() != 20 {
		t.Fatalf("instance %+v, weight %d", in, in.Weight())
	}

	got, err := r.GetService(ctx, "meta")
	if err != nil || len(got) != 1 || !got[0].Equal(si) {
		t.Fatalf("GetService = %+v, %v", got, err)
	}

	// New metadata: a new publication, then the old one goes.
	si.Metadata = map[string]string{"weight": "30"}
	if err := r.Register(ctx, si); err != nil {
		t.Fatal(err)
	}
	waitInstance(map[string]string{"weight": "30", kratosregistry.AttrID: "m1", kratosregistry.AttrVersion: "v1"})
	got, err = r.GetService(ctx, "meta")
	if err != nil || len(got) != 1 || !got[0].Equal(si) {
		t.Fatalf("GetService after the change = %+v, %v", got, err)
	}
	if err := r.Deregister(ctx, si); err != nil {
		t.Fatal(err)
	}
}
