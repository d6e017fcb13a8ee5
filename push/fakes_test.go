package push

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// fakeSource serves datums from a map; an id listed in fail fails that
// many fetches first.
type fakeSource struct {
	mu     sync.Mutex
	datums map[string]Datum
	fail   map[string]int
	calls  []fetchCall
}

type fetchCall struct {
	id string
	at time.Time
}

var errFetch = errors.New("leader unreachable")

func (f *fakeSource) Fetch(_ context.Context, id string, _ proto.DatumVersion, _ List) (Datum, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fetchCall{id, time.Now()})
	if f.fail[id] > 0 {
		f.fail[id]--
		return Datum{}, errFetch
	}
	return f.datums[id], nil
}

func (f *fakeSource) set(id string, d Datum) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.datums == nil {
		f.datums = make(map[string]Datum)
	}
	f.datums[id] = d
}

func (f *fakeSource) fetchTimes(id string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, c := range f.calls {
		if c.id == id {
			out = append(out, c.at)
		}
	}
	return out
}

// passMerger merges nothing: every datum is ready and pushed as fetched.
type passMerger struct{}

func (passMerger) Merge(_ string, own List, v uint64) (List, uint64) {
	return own, v
}
func (passMerger) Ready(string) bool   { return true }
func (passMerger) Follows(string) bool { return false }
func (passMerger) Fetched(string)      {}

// fakeSender records every frame written, decoded, by connection.
type fakeSender struct {
	mu    sync.Mutex
	sent  map[*netio.Conn][]sentPush
	total int
}

type sentPush struct {
	push proto.Push
	at   time.Time
	typ  proto.Type // TypePush, or TypeTemporaryPush (the same encoding)
}

func (f *fakeSender) WriteShared(frame []byte, conns []*netio.Conn) (int, error) {
	var m proto.Push
	h, err := proto.ParseHeader(frame, len(frame))
	if err != nil {
		return 0, err
	}
	if err := m.Unmarshal(frame[proto.HeaderSize : proto.HeaderSize+int(h.Length)]); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sent == nil {
		f.sent = make(map[*netio.Conn][]sentPush)
	}
	for _, c := range conns {
		f.sent[c] = append(f.sent[c], sentPush{m, time.Now(), h.Type})
		f.total++
	}
	return len(conns), nil
}

func (f *fakeSender) Outbound() int64 { return 0 }

func (f *fakeSender) pushes(c *Client) []sentPush {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentPush(nil), f.sent[c.conn]...)
}

// newTestEngine returns a started engine over fakes, stopped at cleanup.
func newTestEngine(t *testing.T, cfg Config) (*Engine, *fakeSource, *fakeSender) {
	t.Helper()
	src, out := &fakeSource{}, &fakeSender{}
	e := New(cfg, src, passMerger{}, out)
	e.Start()
	t.Cleanup(e.Stop)
	return e, src, out
}

// newTestClient is a handshaken client connection with no transport.
func newTestClient(owner string) *Client {
	c := NewClient(&netio.Conn{}, nil)
	copy(c.Owner[:], owner)
	return c
}

// pubs is a list of publishers ids at version 1 (rawPubs).
func pubs(ids ...string) List { return ListOf(rawPubs(ids...)) }

// rawPubs is publishers ids at version 1, one address each.
func rawPubs(ids ...string) []proto.PushPublisher {
	out := make([]proto.PushPublisher, len(ids))
	for i, id := range ids {
		out[i] = proto.PushPublisher{RegisterID: id, Version: 1, Data: []string{"addr-" + id}}
	}
	return out
}
