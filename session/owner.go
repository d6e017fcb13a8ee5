package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Registrations are owned (proto.Owner). A client proves who it is with the
// handshake's ClientID and Secret (the SDK draws a secret per process and
// sends it on every connection), and the session derives its owner from
// them: the same client gets the same owner at every session, so its
// reconnect and replay, here or elsewhere, find its registrations its own,
// while another client, which can read a registerId on a digest endpoint but
// not the secret, cannot republish, unpublish or re-subscribe it.
//
// The owner is a hash of both, not a keyed one: the secret is the key, and an
// owner is never shown to clients or on HTTP endpoints. A client that sends
// no secret (an SDK older than ownership) is owned by its ClientID alone,
// random per process in the SDK; one with neither gets an owner of its own
// per connection. A session checks the registrations it holds and answers at
// once; the slot leader checks every write against its live publisher or
// tombstone (slotstore.Write), so two sessions cannot disagree about who
// owns a publisher. A session's own tombstones only order their owner's
// writes: one it made for a registerId it did not hold may be an
// attacker's, so another client's write goes on to the leader, which knows.
//
// A session answers a client before the slot leader has the write, so a
// write to a registerId the session did not hold can be refused after the
// client was told it was taken: the session then forgets it (forwarder), and
// only the client that wrote another's registerId was misinformed. Such a
// copy may, for that round trip, make the session refuse the registerId's
// owner (CodeOwned): the SDK then goes on under a new registerId.

// ownerDomain separates owner keys from any other use of the same hash.
const ownerDomain = "roster/owner/v1\x00"

// ownerOf derives the owner of a client from its handshake.
func ownerOf(clientID, secret string) proto.Owner {
	var o proto.Owner
	if clientID == "" && secret == "" {
		_, _ = rand.Read(o[:]) // nothing to prove: an owner of this connection's own
		return o
	}
	h := sha256.New()
	h.Write([]byte(ownerDomain))
	h.Write(binary.AppendUvarint(nil, uint64(len(clientID))))
	h.Write([]byte(clientID))
	h.Write([]byte(secret))
	copy(o[:], h.Sum(nil))
	return o
}

var (
	refusedOwned   = metrics.NewCounter(`roster_session_registrations_refused_total{reason="owned"}`)
	refusedVersion = metrics.NewCounter(`roster_session_registrations_refused_total{reason="version"}`)
	// writesForbidden counts writes a slot leader refused as another
	// client's (a registerId this session did not hold).
	writesForbidden = metrics.NewCounter(`roster_session_writes_refused_total{reason="owned"}`)
)

// refusalLogs are the throttles of the lines a client can repeat at will,
// one per kind of refusal.
type refusalLogs struct {
	owned, version, leader netio.LogThrottle
}

func newRefusalLogs() refusalLogs {
	return refusalLogs{
		owned:   netio.LogThrottle{Every: 10 * time.Second},
		version: netio.LogThrottle{Every: 10 * time.Second},
		leader:  netio.LogThrottle{Every: 10 * time.Second},
	}
}

// msgOwned is the message of a refusal to touch another client's registration.
const msgOwned = "registerId owned by another client"

// refuseOwned counts, logs (throttled) and answers a registration of
// another client's registerId.
func (s *Server) refuseOwned(cc *clientConn, what string, k regKey) proto.Result {
	refusedOwned.Inc()
	s.refusals.owned.Log(s.log, slog.LevelWarn, "refused a client's "+what+" of another client's registerId",
		"clientIp", cc.ip, "clientId", cc.clientID, "dataInfoId", k.dataInfoID, "registerId", k.registerID)
	return proto.Result{Code: proto.CodeOwned, Message: what + " refused: " + msgOwned}
}

// refuseVersion counts, logs (throttled) and answers a version out of range.
func (s *Server) refuseVersion(cc *clientConn, k regKey, msg string) proto.Result {
	refusedVersion.Inc()
	s.refusals.version.Log(s.log, slog.LevelWarn, "refused a client's publisher version",
		"clientIp", cc.ip, "dataInfoId", k.dataInfoID, "registerId", k.registerID, "why", msg)
	return proto.Result{Code: proto.CodeBadRequest, Message: msg}
}
