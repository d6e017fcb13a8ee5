package session

import (
	"fmt"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// BenchmarkPushList measures building a fetched datum's push list, every
// publisher held by this session (the usual case for one session; with
// several, a share of them is copied):
//
//	go test -run '^$' -bench PushList -benchmem ./session
func BenchmarkPushList(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("publishers=%d", n), func(b *testing.B) {
			r := newRegistry(16)
			cc := &clientConn{owner: proto.Owner{1}}
			d := &proto.Datum{DataInfoID: "d"}
			for i := range n {
				p := proto.Publisher{DataInfoID: "d", RegisterID: fmt.Sprintf("p%025d", i), Version: 1, RegisterTimestamp: 1,
					Data: []string{fmt.Sprintf("10.0.%d.%d:8080", i/256, i%256)}, Owner: cc.owner}
				if v, _ := r.putPublisher(cc, p); v.code != proto.CodeOK {
					b.Fatal(v.code)
				}
				d.Publishers = append(d.Publishers, p)
			}
			b.ReportAllocs()
			for b.Loop() {
				if len(r.pushList(d, nil)) != n {
					b.Fatal("short list")
				}
			}
		})
	}
}
