package netio

// A process's descriptors are shared by its listeners: a session's client
// port takes up to half (session.DefaultMaxConns), each node port and
// each HTTP port a sixteenth, and what is left is for the links the process
// dials itself (data peers, meta, the store). Caps taken as fixed numbers
// would add up past a small open-files limit, and running out of
// descriptors stops accepting on every port of the process at once.
const fdShareDivisor = 16

// FDShare is a listener's share of the process's descriptors: a
// sixteenth of the open-files limit, within [floor, ceiling]; ceiling
// when the limit is unknown.
func FDShare(floor, ceiling int) int {
	n := OpenFilesLimit()
	if n <= 0 {
		return ceiling
	}
	return min(ceiling, max(floor, n/fdShareDivisor))
}

// NodeConnCaps are the connection caps of a node port (ServerConfig
// MaxConns and MaxConnsPerIP): its share of the descriptors, at most
// NodeMaxConns, and from one IP half of that, at most NodeMaxConnsPerIP.
func NodeConnCaps() (total, perIP int) {
	total = FDShare(32, NodeMaxConns)
	return total, min(NodeMaxConnsPerIP, max(16, total/2))
}
