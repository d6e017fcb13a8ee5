package proto

import "strings"

// samples holds one filled-in value of every message type; round-trip and
// fuzz tests share it so a new message gets both by being added here.
func samples() []Message {
	pub := Publisher{
		DataInfoID: "com.example.Echo:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", RegisterID: "r-1",
		Data: []string{"10.0.0.1:12200?weight=100", "10.0.0.1:12201"}, Zone: "zone-a", AppName: "echo",
		ClientIP: "10.0.0.1", Attrs: []Attr{{"k", "v"}}, Version: 3, RegisterTimestamp: 1_700_000_000_000,
	}
	table := SlotTable{Epoch: 7, Slots: []SlotAssignment{
		{ID: 0, Leader: "127.0.0.1:9620", LeaderEpoch: 2, Followers: []string{"127.0.0.2:9620"}},
		{ID: 1, Leader: "127.0.0.2:9620", LeaderEpoch: 1, Followers: []string{}},
	}}
	owned := pub // Owner travels only in the messages between nodes
	owned.Owner = Owner{1, 2, 3, 15: 0xff}
	svcs := []AppService{{Interface: "i1", Params: []Attr{{"timeout", "3000"}}}, {Interface: "i2", Params: []Attr{}}}
	rev := AppRevision{Revision: AppRevisionOf("echo", svcs), App: "echo", Services: svcs}
	return []Message{
		&Handshake{Version: 1, ClientID: "c-1", AppName: "app", Zone: "z", Encodings: EncodingZstd | EncodingS2, Token: "t", Secret: "s"},
		&HandshakeReply{Version: 1, ServerID: "s-1", Encodings: EncodingZstd, HeartbeatMs: 1000, IdleMs: 15000},
		&Heartbeat{UnixMs: -5},
		&Result{Code: CodeNotLeader, Message: "slot 3 moved", Hint: "127.0.0.1:9620"},
		&Move{Reason: "draining", Sessions: []string{"127.0.0.1:9600", "127.0.0.2:9600"}},
		&pub,
		&UnregisterPublisher{DataInfoID: "d", RegisterID: "r", Version: 9},
		&Subscriber{DataInfoID: "d", RegisterID: "s", Zone: "z", Scope: ScopeDataCenter, AppName: "a", ClientIP: "1.2.3.4", Version: 2, Held: 1 << 45},
		&UnregisterSubscriber{DataInfoID: "d", RegisterID: "s"},
		&Push{DataInfoID: "d", Zone: "z", Version: 10, BaseVersion: 8,
			Publishers: []PushPublisher{{RegisterID: "r", Zone: "z", Version: 1, Data: []string{"a", "b"}},
				{RegisterID: "r2", Version: 2, Data: []string{"c"}, Attrs: []Attr{{"weight", "20"}, {"version", "1.2"}}}},
			Removed: []string{"x"}, Count: 2, Hash: 0xdeadbeefcafe, WithAttrs: true},
		&Push{DataInfoID: "d", Zone: GlobalZone, Version: 11,
			Publishers: []PushPublisher{{RegisterID: "r", Zone: "z", Version: 1, Data: []string{"a"}, DataCenter: "dc1"},
				{RegisterID: "r2", Version: 2, Data: []string{"c"}, Attrs: []Attr{{"weight", "20"}}, DataCenter: "dc2"},
				{RegisterID: "r3", Version: 2, Data: []string{"d"}, DataCenter: "dc1"}},
			Count: 3, Hash: 0xdeadbeef, WithAttrs: true, WithDataCenters: true},
		&Push{DataInfoID: "d", Zone: GlobalZone, Version: 12, Publishers: []PushPublisher{{RegisterID: "r", Version: 1, Data: []string{"a"}, DataCenter: "dc2"}},
			Count: 1, Hash: 7, WithDataCenters: true},
		&PushAck{DataInfoID: "d", Zone: "z", Version: 10, Resync: true, Held: 1 << 50},
		&WriteBatch{SessionID: "s-1", SlotTableEpoch: 4, Replica: true, Ops: []WriteOp{
			{Kind: OpPut, Publisher: owned}, {Kind: OpRemove, Publisher: Publisher{DataInfoID: "d", RegisterID: "r", Data: []string{}, Attrs: []Attr{}, Version: 4}}}},
		&WriteResult{SlotTableEpoch: 4, Codes: []Code{CodeOK, CodeNotLeader}},
		&ChangeNotify{Changes: []DatumVersion{{"d1", 1, 7}, {"d2", 1 << 40, 1 << 63}}},
		&DatumFetch{DataInfoID: "d"},
		&DatumFetch{DataInfoID: "d", Remote: true},
		&Datum{DataInfoID: "d", Version: 5, Publishers: []Publisher{pub, pub}, SettleMs: 9500},
		&Datum{DataInfoID: "d", Version: 6, Publishers: []Publisher{pub},
			Remote: []DCPublishers{{DataCenter: "dc2", Publishers: []Publisher{pub}}, {DataCenter: "dc3", Publishers: []Publisher{pub, pub}}}},
		&DCSlotTableFetch{DataCenter: "dc2", KnownEpoch: 7},
		&DCWatch{DataCenter: "dc2", Slots: []uint32{0, 5, 255}},
		&Interest{Reset: true, Add: []string{"a", "b"}, Remove: []string{"c"}},
		&Interest{Add: []string{"a", "b"}, Known: []VersionHash{{0, 0}, {1 << 50, 1<<64 - 1}}},
		&DigestRequest{Slot: 255, SessionID: "s", SlotTableEpoch: 3},
		&DigestRequest{Slot: 255, SessionID: "s", SlotTableEpoch: 3, HasSum: true, Sum: SlotSum{Count: 1 << 40, Hash: 1<<64 - 1}},
		&DigestRequest{Slot: 0, HasSum: true},
		&SlotDigest{Slot: 3, Entries: []DigestEntry{{"d", 2, 99}}},
		&SlotDigest{Slot: 3, Same: true},
		&DiffRequest{Slot: 3, SessionID: "s", DataInfoIDs: []string{"d"}},
		&SlotDiff{Slot: 3, Publishers: []Publisher{owned, pub}, Owners: []string{"s/1", ""}},
		&table,
		&NodeHeartbeat{Role: RoleData, Node: NodeInfo{"127.0.0.1:9620/42", "127.0.0.1:9620", "127.0.0.1:9622"}, SlotTableEpoch: 6, Synced: []uint32{1, 200}, ConfigEpoch: 1<<32 | 7, Draining: true,
			Load: SessionLoad{Zone: "RZ1", Clients: 12000, Capacity: 100}, DataCenter: "dc2"},
		&NodeHeartbeatReply{MetaEpoch: 3, LeaseMs: 5000, SlotTable: &table,
			Sessions: []NodeInfo{{"s/1", "127.0.0.1:9600", "127.0.0.1:9603"}}, DataNodes: []NodeInfo{{"a/1", "a", "b"}},
			ConfigEpoch: 1<<32 | 7, ClientOff: []string{"10.0.0.1", "10.0.0.2"}, PushStopped: true,
			Draining: []string{"s/1"}, Order: DrainStart, ACL: ACL{Enforce: true, Credentials: []Credential{
				{Name: "orders-svc", TokenHash: [32]byte{1, 31: 2}, App: "orders", Publish: []string{"com.example.orders.*"}, Subscribe: []string{"*"}},
				{Name: "ro", App: "ro"},
			}}, Ops: Ops{BlockedIPs: []string{"10.0.0.9", "10.1.0.0/16"},
				BlockedPublish: []string{"com.bad.*"}, BlockedSubscribe: []string{"x#@#*"}, OffZones: []string{"z1"},
				OffWithSub: []string{"10.0.0.1"}, StoppedZones: []string{"z2", "z3"}, GrayIPs: []string{"10.0.0.5", "2001:db8::1"},
				Switches: []Switch{{"push-compress-above", -1}, {"push-debounce", 50}, {"some-future-switch", 1 << 40}}},
			Loads: []SessionLoad{{Zone: "RZ1", Clients: 7, Capacity: 100}}, RemoteDCs: []RemoteDC{
				{Name: "dc2", MetaAddrs: []string{"10.0.0.1:9610", "10.0.0.2:9610"}, Sync: true, PushRemote: true, Allow: []string{"com.example.*"}, Deny: []string{"x#@#*"}},
				{Name: "dc3", MetaAddrs: []string{"10.1.0.1:9610"}}}},
		&rev,
		&AppQuery{Revisions: []string{rev.Revision}, Interfaces: []string{"i1", "i2"}},
		&AppQueryReply{Revisions: []AppRevision{rev}, Index: []AppIndexEntry{{"i1", []string{"echo"}}, {"i2", []string{}}}},
		&AppQuery{Interfaces: []string{"i1"}, Known: AppIndexVersion{Epoch: 4, Changes: 1 << 33}},
		&AppQueryReply{Index: []AppIndexEntry{{"i1", []string{"echo"}}}, Version: AppIndexVersion{Epoch: 4, Changes: 9}},
		&AppQueryReply{Revisions: []AppRevision{rev}, Version: AppIndexVersion{Epoch: 4, Changes: 9}, Unchanged: true},
		&ConfigFetch{Rev: 7, Since: 1_700_000_000_000_001, WaitMs: 20_000},
		&ConfigSet{Rev: 9, Entries: []ConfigEntry{{Key: "app.flags", Version: 3, HasValue: true, Value: "a=1"}, {Key: "app.limits", Version: 2}}},
		&NodeHello{Version: NodeHandshakeVersion, Role: RoleData, ID: "127.0.0.1:9620/42", Addr: "127.0.0.1:9620",
			Nonce: strings.Repeat("n", NodeNonceSize), Proof: strings.Repeat("p", NodeProofSize)},
		&NodeProof{Proof: strings.Repeat("p", NodeProofSize)},
		&TemporaryPublisher{Publisher: pub},
		&TemporaryWrite{SessionID: "s-1", SlotTableEpoch: 9, Publisher: owned},
		&TemporaryNotice{Version: 1 << 44, Publisher: pub},
		&TemporaryPush{Push: Push{DataInfoID: "d", Zone: "z", Version: 10,
			Publishers: []PushPublisher{{RegisterID: "t", Zone: "z", Version: 1, Data: []string{"event"}, Attrs: []Attr{{"k", "v"}}}},
			Count:      1, Hash: 7, WithAttrs: true}},
	}
}
