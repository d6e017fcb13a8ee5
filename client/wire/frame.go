package wire

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-registry/roster/proto"
)

// Frame is one received frame. Header is as read from the wire (its Length
// and compression flags describe the wire form); Body is already decompressed.
type Frame struct {
	Header proto.Header
	Body   []byte
}

// Decode unmarshals the body into m after checking that the frame carries m's type.
func (f Frame) Decode(m proto.Message) error {
	if f.Header.Type != m.Type() {
		return fmt.Errorf("cannot decode %s from a %s frame: %w", m.Type(), f.Header.Type, ErrUnexpectedReply)
	}
	if err := m.Unmarshal(f.Body); err != nil {
		return fmt.Errorf("cannot decode %s: %w", m.Type(), err)
	}
	return nil
}

// Requester sends a request and waits for its reply; *Conn, *Link and
// *Client implement it. The reply's Body belongs to the caller: nothing
// writes it again (Call decodes a Datum pointing into it).
type Requester interface {
	Request(ctx context.Context, m proto.Message) (Frame, error)
}

// Call sends req and decodes the reply into resp.
//
// A proto.Result reply with a non-OK code is returned as an error wrapping
// *proto.Result, so callers can errors.As it and read Code and Hint (when resp
// is itself a *proto.Result it is filled as well). A Result with CodeOK when
// resp is not a *proto.Result counts as success and leaves resp untouched.
// A reply of any other unexpected type is an error wrapping ErrUnexpectedReply.
func Call(ctx context.Context, r Requester, req, resp proto.Message) error {
	f, err := r.Request(ctx, req)
	if err != nil {
		return err
	}
	_, err = decodeReply(f, req, resp)
	return err
}

// PooledRequester is a Requester that can copy a reply into a pooled
// buffer (*Link, *Client).
type PooledRequester interface {
	Requester
	RequestPooled(ctx context.Context, m proto.Message) (Frame, error)
}

// CallPooled is Call for a reply decoded in place into resp (a
// proto.Datum points into the body) by a caller that keeps nothing of it:
// once nothing of resp is used, the caller hands body back with
// ReleaseBody, and a later reply reuses it. body is nil when there is none
// to hand back (an error, or a reply decoded with a copy).
func CallPooled(ctx context.Context, r PooledRequester, req, resp proto.Message) (body []byte, err error) {
	f, err := r.RequestPooled(ctx, req)
	if err != nil {
		return nil, err
	}
	owned, err := decodeReply(f, req, resp)
	if err != nil || !owned {
		return nil, err
	}
	return f.Body, nil
}

// decodeReply decodes f, the reply to req, into resp (Call), and reports
// whether resp points into f.Body (decoded in place).
func decodeReply(f Frame, req, resp proto.Message) (owned bool, err error) {
	if f.Header.Type == proto.TypeResult {
		res := new(proto.Result)
		if err := res.Unmarshal(f.Body); err != nil {
			return false, fmt.Errorf("cannot decode the result of %s: %w", req.Type(), err)
		}
		if rr, ok := resp.(*proto.Result); ok {
			*rr = *res
		}
		if res.Code != proto.CodeOK {
			return false, fmt.Errorf("%s refused: %w", req.Type(), res)
		}
		return false, nil
	}
	if o, ok := resp.(ownedUnmarshaler); ok && f.Header.Type == resp.Type() {
		// The reply's body is this call's (Requester.Request): decode it
		// without the copy Unmarshal makes.
		if err := o.UnmarshalOwned(f.Body); err != nil {
			return false, fmt.Errorf("cannot complete %s: cannot decode %s: %w", req.Type(), resp.Type(), err)
		}
		return true, nil
	}
	if err := f.Decode(resp); err != nil {
		return false, fmt.Errorf("cannot complete %s: %w", req.Type(), err)
	}
	return false, nil
}

// ownedUnmarshaler is a reply that can decode a body handed over for good
// (proto.Datum: a fetch's reply, the largest), pointing into it.
type ownedUnmarshaler interface {
	UnmarshalOwned(body []byte) error
}

// Replier answers requests: a Link, a server's connection (netio.Conn).
type Replier interface {
	Reply(reqID uint64, m proto.Message) error
}

// HeartbeatReply answers f if it is a heartbeat request and reports whether
// f was a heartbeat (one-way heartbeats are reported but need no answer), so
// a server's frame handler deals with heartbeats in one line.
func HeartbeatReply(r Replier, f Frame) bool {
	if f.Header.Type != proto.TypeHeartbeat || f.Header.Flags&proto.FlagReply != 0 {
		return false
	}
	if f.Header.RequestID != 0 {
		_ = r.Reply(f.Header.RequestID, &proto.Heartbeat{UnixMs: time.Now().UnixMilli()})
	}
	return true
}
