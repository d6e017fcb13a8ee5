package push

import "github.com/roster-registry/roster/proto"

// A datum's list (Datum.Publishers) holds the publishers of this data
// center (DataCenter "") and those imported from linked ones (named).
// Pushes to global subscribers of clients that tell data centers apart
// (filter proto.GlobalZone) carry all of them, each named; every other
// push carries this data center's only, as before data centers were
// linked.

// filterZone returns the publishers of pubs a push of zone filter zone
// carries: every one for proto.GlobalZone; this data center's for "" (a
// dataCenter subscriber, or a global one of an older client); this data
// center's of that zone otherwise. A list of this data center's only is
// returned as is for "".
func filterZone(pubs []proto.PushPublisher, zone string) []proto.PushPublisher {
	if zone == proto.GlobalZone {
		return pubs
	}
	if zone == "" && !hasRemote(pubs) {
		return pubs
	}
	out := make([]proto.PushPublisher, 0, len(pubs))
	for _, p := range pubs {
		if carries(zone, p.Zone, p.DataCenter) {
			out = append(out, p)
		}
	}
	return out
}

// carries reports whether a push of zone filter zone carries a publisher of
// zone pzone and data center dc ("": this one): filterZone's rule for one
// publisher.
func carries(zone, pzone, dc string) bool {
	return zone == proto.GlobalZone || dc == "" && (zone == "" || pzone == zone)
}

func hasRemote(pubs []proto.PushPublisher) bool {
	for i := range pubs {
		if pubs[i].DataCenter != "" {
			return true
		}
	}
	return false
}
