package meta

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/proto"
)

// loadHookStore runs afterLoad once a slot table load has read the store:
// what another writer does between a new leader's load and its first write.
type loadHookStore struct {
	store.Store
	afterLoad func()
}

func (s *loadHookStore) LoadSlotTable(ctx context.Context) (*proto.SlotTable, error) {
	t, err := s.Store.LoadSlotTable(ctx)
	if s.afterLoad != nil {
		s.afterLoad()
	}
	return t, err
}

// newIdleMeta returns a meta node that is not started: no loop runs, so it
// campaigns, saves its tables and answers heartbeats only when the test
// says so.
func newIdleMeta(t *testing.T, st store.Store, owner string) *Server {
	t.Helper()
	s, err := New(Config{
		RPCAddr:     "127.0.0.1:0",
		HTTPAddr:    "127.0.0.1:0",
		Store:       st,
		Slots:       testSlots,
		NodeLease:   time.Minute,
		LeaderLease: time.Minute,
		Credentials: testCreds,
		Logger:      quiet,
		// Tests give each data node its heartbeat by hand or start
		// them one by one: a first table at the first heartbeat.
		FirstTableWait: -1,
	})
	if err != nil {
		t.Fatalf("cannot create meta: %v", err)
	}
	s.mu.Lock()
	s.owner = owner
	s.mu.Unlock()
	return s
}

// epochWitness plays data nodes the way metaclient does (a table is taken
// only at a higher epoch) and remembers every table handed to any of them.
type epochWitness struct {
	t      *testing.T
	held   map[string]*proto.SlotTable // by node address
	handed map[uint64][]byte           // epoch -> body of the table handed out with it
}

// beat sends addr's heartbeat to m and takes the table of the reply.
func (w *epochWitness) beat(m *Server, addr string) {
	w.t.Helper()
	var epoch uint64
	if cur := w.held[addr]; cur != nil {
		epoch = cur.Epoch
	}
	r, ok := m.heartbeat(&proto.NodeHeartbeat{Role: proto.RoleData, Node: proto.NodeInfo{ID: addr + "/1", RPCAddr: addr}, SlotTableEpoch: epoch}).(*proto.NodeHeartbeatReply)
	if !ok {
		w.t.Fatalf("heartbeat of %s refused", addr)
	}
	tb := r.SlotTable
	if tb == nil {
		return
	}
	body := tb.AppendBody(nil)
	if prev, ok := w.handed[tb.Epoch]; ok && !bytes.Equal(prev, body) {
		w.t.Fatalf("slot table epoch %d handed out with two contents (to %s the second time)", tb.Epoch, addr)
	}
	w.handed[tb.Epoch] = body
	if tb.Epoch > epoch {
		w.held[addr] = tb
	}
}

// TestEpochNeverNamesTwoTables: a leader changes the table and loses its
// lease before the change is saved; the next leader starts from the stored
// table and changes it otherwise. No epoch may be handed out with two
// contents (a node holding one would ignore the other, being of the same
// epoch), and every node ends on the new leader's table, which is the
// stored one. With lateSave, the old leader's save lands after the new
// leader loaded the table and before it wrote anything.
func TestEpochNeverNamesTwoTables(t *testing.T) {
	for _, lateSave := range []bool{false, true} {
		name := "unsaved"
		if lateSave {
			name = "saved-after-the-load"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
			w := &epochWitness{t: t, held: map[string]*proto.SlotTable{}, handed: map[uint64][]byte{}}

			m1 := newIdleMeta(t, st, "meta-1")
			m1.campaign(ctx)
			if !m1.IsLeader() {
				t.Fatal("the first meta node does not lead")
			}
			w.beat(m1, "a")
			if err := m1.persist.flush(ctx); err != nil {
				t.Fatal(err)
			}
			w.beat(m1, "a")
			first := m1.SlotTable()
			if w.held["a"] == nil || w.held["a"].Epoch != first.Epoch {
				t.Fatalf("a holds %+v, want the saved table %+v", w.held["a"], first)
			}
			// b joins and gets followers: a table the old leader issues
			// and does not get saved while it leads.
			w.beat(m1, "b")
			if m1.SlotTable().Epoch == first.Epoch {
				t.Fatal("b's joining did not change the table")
			}
			w.beat(m1, "a")
			w.beat(m1, "b")

			hook := &loadHookStore{Store: st}
			if lateSave {
				hook.afterLoad = func() {
					hook.afterLoad = nil
					if err := m1.persist.flush(ctx); err != nil {
						t.Errorf("the old leader's late save: %v", err)
					}
				}
			}
			if err := st.Release(ctx, LeaderLeaseName, "meta-1"); err != nil {
				t.Fatal(err)
			}
			m2 := newIdleMeta(t, hook, "meta-2")
			m2.campaign(ctx)
			if !m2.IsLeader() {
				t.Fatal("the second meta node does not lead")
			}
			// c joins the new leader before the old nodes reach it, and
			// gets followers too: another table after the same stored one.
			for range 3 {
				w.beat(m2, "c")
				w.beat(m2, "a")
				w.beat(m2, "b")
				if err := m2.persist.flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			want := m2.SlotTable()
			stored, err := st.LoadSlotTable(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stored == nil || stored.Epoch != want.Epoch || !bytes.Equal(stored.AppendBody(nil), want.AppendBody(nil)) {
				t.Fatalf("stored table %+v, want the new leader's %+v", stored, want)
			}
			for _, n := range []string{"a", "b", "c"} {
				if got := w.held[n]; got == nil || got.Epoch != want.Epoch {
					t.Fatalf("%s holds %+v, want the new leader's table of epoch %d", n, got, want.Epoch)
				}
			}
		})
	}
}
