package proto

import "strconv"

// Type identifies the message carried by a frame.
type Type uint8

// Message types. Numbers are part of the wire contract: never reuse one.
const (
	TypeHandshake            Type = 1
	TypeHandshakeReply       Type = 2
	TypeHeartbeat            Type = 3
	TypeResult               Type = 4
	TypeMove                 Type = 5
	TypePublisher            Type = 10
	TypeUnregisterPublisher  Type = 11
	TypeSubscriber           Type = 12
	TypeUnregisterSubscriber Type = 13
	TypeTemporaryPublisher   Type = 14
	TypePush                 Type = 20
	TypePushAck              Type = 21
	TypeTemporaryPush        Type = 22
	TypeWriteBatch           Type = 30
	TypeWriteResult          Type = 31
	TypeChangeNotify         Type = 32
	TypeDatumFetch           Type = 33
	TypeDatum                Type = 34
	TypeInterest             Type = 35
	TypeDigestRequest        Type = 36
	TypeSlotDigest           Type = 37
	TypeDiffRequest          Type = 38
	TypeSlotDiff             Type = 39
	TypeSlotTable            Type = 40
	TypeNodeHeartbeat        Type = 41
	TypeNodeHeartbeatReply   Type = 42
	TypeAppRevision          Type = 43
	TypeAppQuery             Type = 44
	TypeAppQueryReply        Type = 45
	TypeTemporaryWrite       Type = 46
	TypeTemporaryNotice      Type = 47
	TypeConfigFetch          Type = 48
	TypeConfigSet            Type = 49
	TypeNodeHello            Type = 50
	TypeNodeProof            Type = 51
	TypeDCSlotTableFetch     Type = 52
	TypeDCWatch              Type = 53
)

var typeNames = map[Type]string{
	TypeHandshake: "Handshake", TypeHandshakeReply: "HandshakeReply", TypeHeartbeat: "Heartbeat",
	TypeResult: "Result", TypeMove: "Move", TypePublisher: "Publisher", TypeUnregisterPublisher: "UnregisterPublisher",
	TypeSubscriber: "Subscriber", TypeUnregisterSubscriber: "UnregisterSubscriber",
	TypePush: "Push", TypePushAck: "PushAck", TypeWriteBatch: "WriteBatch", TypeWriteResult: "WriteResult",
	TypeChangeNotify: "ChangeNotify", TypeDatumFetch: "DatumFetch", TypeDatum: "Datum",
	TypeInterest: "Interest", TypeDigestRequest: "DigestRequest", TypeSlotDigest: "SlotDigest",
	TypeDiffRequest: "DiffRequest", TypeSlotDiff: "SlotDiff", TypeSlotTable: "SlotTable",
	TypeNodeHeartbeat: "NodeHeartbeat", TypeNodeHeartbeatReply: "NodeHeartbeatReply",
	TypeAppRevision: "AppRevision", TypeAppQuery: "AppQuery", TypeAppQueryReply: "AppQueryReply",
	TypeConfigFetch: "ConfigFetch", TypeConfigSet: "ConfigSet",
	TypeNodeHello: "NodeHello", TypeNodeProof: "NodeProof",
	TypeDCSlotTableFetch: "DCSlotTableFetch", TypeDCWatch: "DCWatch",
	TypeTemporaryPublisher: "TemporaryPublisher", TypeTemporaryPush: "TemporaryPush",
	TypeTemporaryWrite: "TemporaryWrite", TypeTemporaryNotice: "TemporaryNotice",
}

func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Known reports whether t is a message type of this protocol version.
func (t Type) Known() bool {
	_, ok := typeNames[t]
	return ok
}

// New returns an empty message of type t, or nil for an unknown type.
func New(t Type) Message {
	switch t {
	case TypeHandshake:
		return new(Handshake)
	case TypeHandshakeReply:
		return new(HandshakeReply)
	case TypeHeartbeat:
		return new(Heartbeat)
	case TypeResult:
		return new(Result)
	case TypeMove:
		return new(Move)
	case TypePublisher:
		return new(Publisher)
	case TypeUnregisterPublisher:
		return new(UnregisterPublisher)
	case TypeSubscriber:
		return new(Subscriber)
	case TypeUnregisterSubscriber:
		return new(UnregisterSubscriber)
	case TypePush:
		return new(Push)
	case TypePushAck:
		return new(PushAck)
	case TypeWriteBatch:
		return new(WriteBatch)
	case TypeWriteResult:
		return new(WriteResult)
	case TypeChangeNotify:
		return new(ChangeNotify)
	case TypeDatumFetch:
		return new(DatumFetch)
	case TypeDatum:
		return new(Datum)
	case TypeInterest:
		return new(Interest)
	case TypeDigestRequest:
		return new(DigestRequest)
	case TypeSlotDigest:
		return new(SlotDigest)
	case TypeDiffRequest:
		return new(DiffRequest)
	case TypeSlotDiff:
		return new(SlotDiff)
	case TypeSlotTable:
		return new(SlotTable)
	case TypeNodeHeartbeat:
		return new(NodeHeartbeat)
	case TypeNodeHeartbeatReply:
		return new(NodeHeartbeatReply)
	case TypeAppRevision:
		return new(AppRevision)
	case TypeAppQuery:
		return new(AppQuery)
	case TypeAppQueryReply:
		return new(AppQueryReply)
	case TypeConfigFetch:
		return new(ConfigFetch)
	case TypeConfigSet:
		return new(ConfigSet)
	case TypeNodeHello:
		return new(NodeHello)
	case TypeNodeProof:
		return new(NodeProof)
	case TypeDCSlotTableFetch:
		return new(DCSlotTableFetch)
	case TypeDCWatch:
		return new(DCWatch)
	case TypeTemporaryPublisher:
		return new(TemporaryPublisher)
	case TypeTemporaryPush:
		return new(TemporaryPush)
	case TypeTemporaryWrite:
		return new(TemporaryWrite)
	case TypeTemporaryNotice:
		return new(TemporaryNotice)
	}
	return nil
}
