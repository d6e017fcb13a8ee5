package wire

import (
	"strconv"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// BenchmarkAppendWriteBatch encodes the largest batch a session forwards
// (2,048 writes of 100-byte data) into an OutQueue, as a session's
// forwarder and a slot leader's replica stream do: its cost is the frame's
// buffer, made at its size for a message that knows it (proto.WriteBatch.Size).
//
//	cd client && go test -run '^$' -bench AppendWriteBatch -benchmem ./wire
func BenchmarkAppendWriteBatch(b *testing.B) {
	wb := &proto.WriteBatch{SessionID: "session-0", SlotTableEpoch: 7}
	data := string(make([]byte, 100))
	for i := range 2048 {
		wb.Ops = append(wb.Ops, proto.WriteOp{Kind: proto.OpPut, Publisher: proto.Publisher{
			DataInfoID: "service-" + strconv.Itoa(i%20), RegisterID: "publisher-" + strconv.Itoa(i) + "-0123456789abcdef",
			Data: []string{data}, Zone: "zone-a", AppName: "app", ClientIP: "10.0.0.1", Version: 3,
			RegisterTimestamp: 1_700_000_000_000, Owner: proto.Owner{1}}})
	}
	benchAppendMsg(b, wb)
}

// benchAppendMsg encodes m into an OutQueue, as a writer queuing it does.
func benchAppendMsg(b *testing.B, m proto.Message) {
	var q OutQueue
	b.ReportAllocs()
	for b.Loop() {
		if err := q.AppendMsg(1, 0, m, proto.DefaultMaxBody); err != nil {
			b.Fatal(err)
		}
		q.Seal()
		b.SetBytes(int64(q.Bytes()))
		q.Reset()
	}
}

// BenchmarkAppendInterest encodes one request of a session's version scan
// (4,096 ids with the version and hash held of each) into an OutQueue.
//
//	cd client && go test -run '^$' -bench AppendInterest -benchmem ./wire
func BenchmarkAppendInterest(b *testing.B) {
	m := &proto.Interest{}
	for i := range 4096 {
		m.Add = append(m.Add, "com.example.service-"+strconv.Itoa(i)+":1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP")
		m.Known = append(m.Known, proto.VersionHash{Version: uint64(1_700_000_000_000) << 16, Hash: uint64(i) * 0x9e3779b97f4a7c15})
	}
	benchAppendMsg(b, m)
}
