package slotstore_test

import (
	"fmt"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

func ExampleStore() {
	s, err := slotstore.NewStore(slotstore.DefaultSlots)
	if err != nil {
		panic(err)
	}
	id := slotstore.DataInfoID("com.example.Echo:1.0", "", "")
	p := &proto.Publisher{DataInfoID: id, RegisterID: "r1", Data: []string{"10.0.0.1:12200"}, Version: 1, RegisterTimestamp: 1000}

	v1, changed := s.Put("session-1", p)
	fmt.Println("first put changed:", changed)
	_, changed = s.Put("session-1", p)
	fmt.Println("same put changed:", changed)

	d := s.Datum(id)
	fmt.Println(len(d.Publishers), d.Publishers[0].Data[0], d.Version == v1.Version)

	v2, changed := s.Remove("session-1", id, "r1", 1, 2000)
	fmt.Println("removed:", changed, v2.Version > v1.Version)
	// Output:
	// first put changed: true
	// same put changed: false
	// 1 10.0.0.1:12200 true
	// removed: true true
}
