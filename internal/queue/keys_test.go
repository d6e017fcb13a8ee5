package queue

import (
	"reflect"
	"testing"
)

// A Keys that held a burst drops its map once emptied, by Delete or Clear;
// a small one keeps it.
func TestKeysDropBurstMap(t *testing.T) {
	for _, clearAll := range []bool{false, true} {
		var s Keys[int]
		for i := range 1000 {
			if !s.Add(i) {
				t.Fatalf("Add(%d) of a new key reported it present", i)
			}
		}
		if s.Add(5) || !s.Has(5) || s.Len() != 1000 {
			t.Fatal("a key added twice, or not found")
		}
		burst := reflect.ValueOf(s.m).UnsafePointer()
		if clearAll {
			s.Clear()
		} else {
			for i := range 1000 {
				s.Delete(i)
			}
		}
		if reflect.ValueOf(s.m).UnsafePointer() == burst {
			t.Fatalf("clear=%v: the emptied set keeps its burst's map", clearAll)
		}
		if !s.Add(1) || s.Len() != 1 {
			t.Fatal("the set does not take keys after emptying")
		}
	}
	var small Keys[int]
	small.Add(1)
	kept := reflect.ValueOf(small.m).UnsafePointer()
	small.Delete(1)
	if reflect.ValueOf(small.m).UnsafePointer() != kept {
		t.Fatal("a small set's map was made anew")
	}
}
