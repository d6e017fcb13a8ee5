package catalog

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestSelector(t *testing.T) {
	f := func(q Query, offered []string, want []string, wantMore bool) {
		t.Helper()
		s := NewSelector(q)
		for _, id := range offered {
			s.Offer(id)
		}
		got, more := s.IDs()
		if !slices.Equal(got, want) || more != wantMore {
			t.Fatalf("%+v %v: got %v %v, want %v %v", q, offered, got, more, want, wantMore)
		}
	}
	ids := []string{"e", "a", "c", "b", "d", "a", "x.1", "x.2"}
	f(Query{Limit: 10}, ids, []string{"a", "b", "c", "d", "e", "x.1", "x.2"}, false)
	f(Query{Limit: 3}, ids, []string{"a", "b", "c"}, true)
	f(Query{Limit: 3, After: "c"}, ids, []string{"d", "e", "x.1"}, true)
	f(Query{Limit: 2, Prefix: "x."}, ids, []string{"x.1", "x.2"}, false)
	f(Query{Limit: 1, Prefix: "x.", After: "x.1"}, ids, []string{"x.2"}, false)
	f(Query{Limit: 5, Prefix: "nope"}, ids, []string{}, false)
}

func TestMerge(t *testing.T) {
	q := Query{Limit: 2}
	a := Page{Services: []Service{{"a", 1, 0}, {"c", 2, 1}}, More: true}
	b := Page{Services: []Service{{"a", 0, 3}, {"b", 1, 1}}}
	got := Merge(q, []Page{a, b})
	want := []Service{{"a", 1, 3}, {"b", 1, 1}}
	if !slices.Equal(got.Services, want) || !got.More || got.Next != "b" || got.Sessions != 2 {
		t.Fatalf("merge: %+v", got)
	}
	// A node's entries outside the query, or negative counts, are not counted.
	got = Merge(Query{Limit: 5, Prefix: "a"}, []Page{{Services: []Service{{"a", -5, 1}, {"zz", 9, 9}}}})
	if !slices.Equal(got.Services, []Service{{"a", 0, 1}}) || got.More {
		t.Fatalf("merge of a misbehaving node: %+v", got)
	}
}

func TestParseQuery(t *testing.T) {
	f := func(raw string, want Query, wantErr bool) {
		t.Helper()
		v, _ := url.ParseQuery(raw)
		got, err := ParseQuery(v)
		if (err != nil) != wantErr || err == nil && got != want {
			t.Fatalf("%q: %+v %v", raw, got, err)
		}
	}
	f("", Query{Limit: DefaultLimit}, false)
	f("prefix=com.&after=com.a&limit=5", Query{Prefix: "com.", After: "com.a", Limit: 5}, false)
	f("limit=0", Query{}, true)
	f("limit=1001", Query{}, true)
	f("limit=-1", Query{}, true)
	f("limit=9999999999999999999999", Query{}, true)
	f("after="+strings.Repeat("a", MaxIDBytes+1), Query{}, true)
}

// FuzzQuery: any query string either is refused or selects, from any ids,
// a sorted page of at most limit matching ids, and merging pages keeps it so.
func FuzzQuery(f *testing.F) {
	f.Add("prefix=a&limit=2", "a,b,ab,aa,a")
	f.Add("after=b&limit=1", "c,b,a")
	f.Fuzz(func(t *testing.T, raw, ids string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			return
		}
		s := NewSelector(q)
		var page Page
		for i, id := range strings.Split(ids, ",") {
			s.Offer(id)
			page.Services = append(page.Services, Service{DataInfoID: id, Publishers: i, Subscribers: -i})
		}
		got, _ := s.IDs()
		if len(got) > q.Limit || !slices.IsSorted(got) {
			t.Fatalf("%+v: %v", q, got)
		}
		for _, id := range got {
			if !q.Matches(id) {
				t.Fatalf("%+v selected %q", q, id)
			}
		}
		m := Merge(q, []Page{page, page})
		if len(m.Services) > q.Limit || !slices.IsSortedFunc(m.Services, func(a, b Service) int { return strings.Compare(a.DataInfoID, b.DataInfoID) }) {
			t.Fatalf("merge %+v: %v", q, m.Services)
		}
		for _, s := range m.Services {
			if s.Publishers < 0 || s.Subscribers != 0 {
				t.Fatalf("merge counted %+v", s)
			}
		}
	})
}
