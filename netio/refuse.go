package netio

import (
	"fmt"
	"log/slog"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/proto"
)

// Refuser answers, counts and logs the requests an authenticated node may
// not make (a role's checks of Conn.Peer): the node gets CodeUnauthorized
// and what was refused, the refusal is counted in Metric{type="..."} and
// logged at most once per second. The zero value with Metric and Logger
// set is ready to use; it is safe for concurrent use.
type Refuser struct {
	Metric string // e.g. "roster_data_unauthorized_total"
	Logger *slog.Logger
	log    LogThrottle
}

// Refuse refuses frame f of c; msg says what and why.
func (r *Refuser) Refuse(c *Conn, f Frame, msg string) {
	metrics.GetOrCreateCounter(fmt.Sprintf("%s{type=%q}", r.Metric, f.Header.Type.String())).Inc()
	r.log.Warn(r.Logger, "refused a request the node may not make", "remote", c.RemoteAddr(), "peer", c.Peer(), "type", f.Header.Type, "why", msg)
	if f.Header.RequestID != 0 {
		_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeUnauthorized, Message: msg})
	}
}
