package metaclient

import (
	"net/http"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// NodeJSON is a node as the node-list endpoints show it (as meta does).
type NodeJSON struct {
	ID       string `json:"id"`
	RPCAddr  string `json:"rpcAddr"`
	HTTPAddr string `json:"httpAddr"`
}

// MetaAddrJSON is a meta node as a data or session node knows it: by the RPC
// address it was configured with.
type MetaAddrJSON struct {
	RPCAddr string `json:"rpcAddr"`
}

// HandleNodeLists serves, on a data or session node, the node lists of
// docs/http-api.md as this node's view of meta has them:
// GET /digest/{session,data,meta}/node/query. view reports false while the
// node has no view yet (the lists are then empty).
func HandleNodeLists(h *opshttp.Server, metaAddrs []string, view func() (View, bool)) {
	nodes := func(pick func(View) []proto.NodeInfo) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			out := []NodeJSON{}
			if v, ok := view(); ok {
				for _, n := range pick(v) {
					out = append(out, NodeJSON{ID: n.ID, RPCAddr: n.RPCAddr, HTTPAddr: n.HTTPAddr})
				}
			}
			opshttp.WriteJSON(w, http.StatusOK, out)
		}
	}
	h.HandleRead("GET /digest/session/node/query", nodes(func(v View) []proto.NodeInfo { return v.Sessions }))
	h.HandleRead("GET /digest/data/node/query", nodes(func(v View) []proto.NodeInfo { return v.DataNodes }))
	h.HandleRead("GET /digest/meta/node/query", func(w http.ResponseWriter, _ *http.Request) {
		out := make([]MetaAddrJSON, len(metaAddrs))
		for i, a := range metaAddrs {
			out[i] = MetaAddrJSON{RPCAddr: a}
		}
		opshttp.WriteJSON(w, http.StatusOK, out)
	})
}
