package meta

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// Defaults of Config.
const (
	DefaultRPCAddr     = ":9610"
	DefaultHTTPAddr    = ":9615"
	DefaultReplicas    = 2
	DefaultNodeLease   = 5 * time.Second
	DefaultLeaderLease = 10 * time.Second
	// DefaultAppRevisionRetention keeps an unused app revision a day: an
	// application rolled back within it finds its record.
	DefaultAppRevisionRetention = 24 * time.Hour
	// DefaultFirstTableWait covers data nodes started together (a process
	// manager, an orchestrator's parallel start), which heartbeat within a
	// second or so of each other.
	DefaultFirstTableWait = 2 * time.Second
)

// LeaderLeaseName is the store lease the meta nodes compete for.
const LeaderLeaseName = "meta-leader"

// Config configures a meta Server. Zero values pick the defaults.
type Config struct {
	RPCAddr  string // node heartbeats; "127.0.0.1:0" picks a port
	HTTPAddr string // operations HTTP; "127.0.0.1:0" picks a port
	// AdvertiseAddr is the RPC address other nodes reach this node at, and
	// its name as lease owner; default: the bound RPC address (see
	// metaclient.Advertise). It must be unique among the meta nodes.
	AdvertiseAddr string
	// AdvertiseHost is the host (IP or DNS name) others reach this node at;
	// its RPC and HTTP addresses are advertised with it and their bound
	// ports (metaclient.AdvertiseOn). AdvertiseAddr wins for RPC.
	AdvertiseHost string
	Store         store.Store // required; the Server does not close it
	Slots         int         // slots of the cluster, a power of two; default 256
	Replicas      int         // replicas per slot, leader included; default 2
	BalanceMoves  int         // replicas moved per balance round; default DefaultBalanceMoves
	// FirstTableWait is how long a new cluster's first slot table waits
	// after the first data node registers, so that the data nodes started
	// together share it. Without it the first node led every slot and the
	// others were balanced in BalanceMoves a round, each leader move after
	// its follower synced: half a minute for three nodes, with writes and
	// fetches refused meanwhile. Default DefaultFirstTableWait; negative:
	// none. A cluster with a stored table never waits.
	FirstTableWait time.Duration
	// NodeLease is how long a node not heard from stays alive.
	NodeLease time.Duration
	// LeaderLease is the ttl of the meta leader lease; it is renewed every third of it.
	LeaderLease time.Duration
	// AppRevisionRetention is how long an app revision no instance names
	// is kept before the cleaner removes it (appclean.go); default
	// DefaultAppRevisionRetention, negative: never.
	AppRevisionRetention time.Duration
	// Admin says who may use the HTTP admin endpoints and protected reads.
	Admin opshttp.AdminConfig
	// Credentials authenticate the nodes that heartbeat here (certificates
	// or the cluster secret); required: meta takes no unauthenticated node.
	Credentials netio.Credentials
	// DataCenter names this cluster (proto.ValidateDataCenterName); default
	// proto.DefaultDataCenter.
	DataCenter string
	Logger     *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Store == nil {
		return ErrNoStore
	}
	if c.DataCenter == "" {
		c.DataCenter = proto.DefaultDataCenter
	}
	if err := proto.ValidateDataCenterName(c.DataCenter); err != nil {
		return err
	}
	if c.RPCAddr == "" {
		c.RPCAddr = DefaultRPCAddr
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.Slots == 0 {
		c.Slots = slotstore.DefaultSlots
	}
	if c.Slots < 0 || c.Slots&(c.Slots-1) != 0 {
		return fmt.Errorf("%w: %d", ErrBadSlots, c.Slots)
	}
	if c.BalanceMoves <= 0 {
		c.BalanceMoves = DefaultBalanceMoves
	}
	if c.FirstTableWait == 0 {
		c.FirstTableWait = DefaultFirstTableWait
	}
	if c.Replicas <= 0 {
		c.Replicas = DefaultReplicas
	}
	if c.NodeLease <= 0 {
		c.NodeLease = DefaultNodeLease
	}
	if c.LeaderLease <= 0 {
		c.LeaderLease = DefaultLeaderLease
	}
	if c.AppRevisionRetention == 0 {
		c.AppRevisionRetention = DefaultAppRevisionRetention
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}
