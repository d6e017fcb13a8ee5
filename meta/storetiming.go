package meta

import (
	"context"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/proto"
)

// storeBuckets bound roster_meta_store_seconds: a healthy database answers
// in milliseconds; the lease must be renewed within a third of its ttl.
var storeBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// timedStore is a store.Store whose calls are timed, per operation, in
// roster_meta_store_seconds{op=...} (failed calls included).
type timedStore struct {
	store.Store
	lease, leader, saveTable, loadTable, putConfig, getConfig *metrics.PrometheusHistogram
}

func newTimedStore(st store.Store, set *metrics.Set) *timedStore {
	h := func(op string) *metrics.PrometheusHistogram {
		return set.NewPrometheusHistogramExt(`roster_meta_store_seconds{op="`+op+`"}`, storeBuckets)
	}
	return &timedStore{Store: st, lease: h("lease"), leader: h("leader"), saveTable: h("save_table"),
		loadTable: h("load_table"), putConfig: h("put_config"), getConfig: h("get_config")}
}

func since(h *metrics.PrometheusHistogram, start time.Time) { h.UpdateDuration(start) }

func (t *timedStore) TryAcquire(ctx context.Context, name, owner string, ttl time.Duration) (store.Lease, bool, error) {
	defer since(t.lease, time.Now())
	return t.Store.TryAcquire(ctx, name, owner, ttl)
}

func (t *timedStore) Release(ctx context.Context, name, owner string) error {
	defer since(t.lease, time.Now())
	return t.Store.Release(ctx, name, owner)
}

func (t *timedStore) Leader(ctx context.Context, name string) (store.Lease, error) {
	defer since(t.leader, time.Now())
	return t.Store.Leader(ctx, name)
}

func (t *timedStore) SaveSlotTable(ctx context.Context, tb *proto.SlotTable, fence uint64) error {
	defer since(t.saveTable, time.Now())
	return t.Store.SaveSlotTable(ctx, tb, fence)
}

func (t *timedStore) LoadSlotTable(ctx context.Context) (*proto.SlotTable, error) {
	defer since(t.loadTable, time.Now())
	return t.Store.LoadSlotTable(ctx)
}

func (t *timedStore) PutConfig(ctx context.Context, key string, value []byte, fence uint64) error {
	defer since(t.putConfig, time.Now())
	return t.Store.PutConfig(ctx, key, value, fence)
}

func (t *timedStore) GetConfig(ctx context.Context, key string) ([]byte, bool, error) {
	defer since(t.getConfig, time.Now())
	return t.Store.GetConfig(ctx, key)
}

func (t *timedStore) ListConfig(ctx context.Context, prefix string) (map[string][]byte, error) {
	defer since(t.getConfig, time.Now())
	return t.Store.ListConfig(ctx, prefix)
}

func (t *timedStore) DeleteConfig(ctx context.Context, key string, fence uint64) error {
	defer since(t.putConfig, time.Now())
	return t.Store.DeleteConfig(ctx, key, fence)
}
