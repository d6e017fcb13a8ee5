package proto

import (
	"strings"
	"testing"
)

func TestValidateDataCenterName(t *testing.T) {
	for _, ok := range []string{"dc1", "eu-west.2", "A_b", strings.Repeat("x", MaxDataCenterLen)} {
		if err := ValidateDataCenterName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "dc 1", "dc/1", "é", strings.Repeat("x", MaxDataCenterLen+1)} {
		if ValidateDataCenterName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRemoteDCValidate(t *testing.T) {
	good := RemoteDC{Name: "dc2", MetaAddrs: []string{"10.0.0.1:9614"}, Sync: true, Allow: []string{"com.example.*"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	many := make([]string, MaxDCFilters+1)
	for i := range many {
		many[i] = "x"
	}
	for name, r := range map[string]RemoteDC{
		"no metas":     {Name: "dc2"},
		"bad name":     {Name: "dc 2", MetaAddrs: []string{"a:1"}},
		"empty addr":   {Name: "dc2", MetaAddrs: []string{""}},
		"empty filter": {Name: "dc2", MetaAddrs: []string{"a:1"}, Deny: []string{""}},
		"many filters": {Name: "dc2", MetaAddrs: []string{"a:1"}, Allow: many},
	} {
		if r.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHeartbeatReplyRemoteDCs(t *testing.T) {
	dcs := []RemoteDC{
		{Name: "dc2", MetaAddrs: []string{"10.0.0.1:9610"}, Sync: true, Allow: []string{"com.example.*"}},
		{Name: "dc3", MetaAddrs: []string{"10.1.0.1:9610", "10.1.0.2:9610"}, PushRemote: true, Deny: []string{"g#@#*"}},
	}
	sessions := []NodeInfo{{"s/1", "a:1", "a:2"}}
	body := (&NodeHeartbeatReply{MetaEpoch: 1, ConfigEpoch: 5, Sessions: sessions, RemoteDCs: dcs}).AppendBody(nil)
	var m NodeHeartbeatReply
	if err := m.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	if m.ConfigEpoch != 5 || m.Loads != nil || len(m.RemoteDCs) != 2 || m.RemoteDCs[0].Name != "dc2" || !m.RemoteDCs[0].Sync ||
		m.RemoteDCs[0].PushRemote || m.RemoteDCs[1].Deny[0] != "g#@#*" || !m.RemoteDCs[1].PushRemote || len(m.RemoteDCs[1].MetaAddrs) != 2 {
		t.Fatalf("decoded %+v", m)
	}
	// Without a config epoch the list is not part of the reply.
	body = (&NodeHeartbeatReply{MetaEpoch: 1, RemoteDCs: dcs}).AppendBody(nil)
	if err := m.Unmarshal(body); err != nil || m.RemoteDCs != nil {
		t.Fatalf("got %v, %v", m.RemoteDCs, err)
	}

	refused := map[string][]RemoteDC{
		"invalid": {{Name: "dc 2", MetaAddrs: []string{"a:1"}}},
		"twice":   {dcs[0], dcs[0]},
		"no meta": {{Name: "dc2"}},
	}
	many := make([]RemoteDC, MaxRemoteDCs+1)
	for i := range many {
		many[i] = RemoteDC{Name: "dc" + strings.Repeat("x", i+1), MetaAddrs: []string{"a:1"}}
	}
	refused["too many"] = many
	for name, list := range refused {
		body := (&NodeHeartbeatReply{MetaEpoch: 1, ConfigEpoch: 5, RemoteDCs: list}).AppendBody(nil)
		if err := new(NodeHeartbeatReply).Unmarshal(body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Unknown flag bits are refused.
	body = (&NodeHeartbeatReply{MetaEpoch: 1, ConfigEpoch: 5, RemoteDCs: dcs[:1]}).AppendBody(nil)
	i := strings.LastIndex(string(body), "10.0.0.1:9610") + len("10.0.0.1:9610")
	body[i] |= 4
	if err := new(NodeHeartbeatReply).Unmarshal(body); err == nil {
		t.Error("unknown flags accepted")
	}
}

func TestHeartbeatDataCenter(t *testing.T) {
	hb := &NodeHeartbeat{Role: RoleData, Node: NodeInfo{"a/1", "a", "b"}, DataCenter: "eu-1"}
	var m NodeHeartbeat
	if err := m.Unmarshal(hb.AppendBody(nil)); err != nil || m.DataCenter != "eu-1" {
		t.Fatalf("got %q, %v", m.DataCenter, err)
	}
	// An older node sends none.
	hb.DataCenter = ""
	if err := m.Unmarshal(hb.AppendBody(nil)); err != nil || m.DataCenter != "" {
		t.Fatalf("got %q, %v", m.DataCenter, err)
	}
	hb.DataCenter = strings.Repeat("x", MaxDataCenterLen+1)
	if err := m.Unmarshal(hb.AppendBody(nil)); err == nil {
		t.Fatal("a data center name over the limit accepted")
	}
}
