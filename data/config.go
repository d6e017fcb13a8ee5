package data

import (
	"log/slog"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// Defaults of Config.
const (
	DefaultRPCAddr           = ":9620"
	DefaultHTTPAddr          = ":9622"
	DefaultHeartbeatInterval = time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultTombstoneTTL      = 10 * time.Minute
	DefaultRepairInterval    = 5 * time.Second
	DefaultSyncInterval      = 30 * time.Second
	DefaultDCKeep            = 10 * time.Minute
	DefaultReplicaQueue      = 1 << 16
	// DefaultMaxInterestsPerConn is Config.MaxInterestsPerConn's default:
	// far more services than a session's clients subscribe to (a session
	// takes at most 20,000 per client connection, and a registry of a
	// million services is large), small enough that one connection cannot
	// hold gigabytes of ids.
	DefaultMaxInterestsPerConn = 1 << 21
	// DefaultReplayWindow is Config.ReplayWindow's default: twice the SDK's
	// longest wait between two reconnect attempts (5 s), so a client that
	// lost its session when the registry went down has tried again at least
	// once after it came back, and replayed.
	DefaultReplayWindow = 10 * time.Second
)

// logEvery is the least time between two warnings of one kind that repeat
// per peer or per slot (the rest are counted into the next).
const logEvery = 10 * time.Second

// Config configures a data Server. Zero values pick the defaults.
type Config struct {
	RPCAddr  string // sessions dial it; "127.0.0.1:0" picks a port
	HTTPAddr string // operations HTTP; "127.0.0.1:0" picks a port
	// AdvertiseAddr names this node in the slot table and is what sessions
	// dial; default: the bound RPC address (see metaclient.Advertise).
	AdvertiseAddr string
	// AdvertiseHost is the host (IP or DNS name) other nodes reach this
	// node at; its RPC and HTTP addresses are advertised with it and their
	// bound ports (metaclient.AdvertiseOn). AdvertiseAddr wins for RPC.
	AdvertiseHost     string
	MetaAddrs         []string      // meta RPC addresses; required
	Slots             int           // slots of the cluster; default 256, must match meta's
	HeartbeatInterval time.Duration // to meta; default 1s
	// IdleTimeout closes a session connection silent for this long.
	IdleTimeout time.Duration
	// TombstoneTTL is how long an unpublished register id is remembered, so a
	// late older publish of it is dropped.
	TombstoneTTL time.Duration
	// RepairInterval is how often a follower compares each slot it follows
	// with the slot's leader and repairs what differs.
	RepairInterval time.Duration
	// SyncInterval is how long a leader takes to compare every slot it leads
	// with every connected session (one slot after another, spread over the
	// interval) and repair what differs: sessions are the source of truth.
	SyncInterval time.Duration
	// ReplicaQueue bounds the ops waiting to be streamed to one follower;
	// beyond it they are dropped (and counted), and repair catches up.
	ReplicaQueue int
	// MaxInterestsPerConn bounds the dataInfoIds one session connection
	// may ask notifies for (its interest set): an Interest that would pass
	// it is refused (CodeTooLarge, naming the flag). Zero: the default;
	// negative: no limit.
	MaxInterestsPerConn int
	// ReplayWindow is how long a slot this node rebuilt from nothing (it
	// came to lead it holding no copy: the whole data tier restarted, or
	// every copy was lost) settles: fetches say so (proto.Datum.SettleMs),
	// and sessions leave a client that held a list before the restart its
	// list meanwhile, while clients reconnect and replay. Default
	// DefaultReplayWindow; negative: none.
	ReplayWindow time.Duration
	// Admin says who may use the HTTP admin endpoints and protected reads.
	Admin opshttp.AdminConfig
	// DrainTimeout, when positive, makes Stop drain first: the node says it
	// is draining, meta moves its slots elsewhere (synced followers are
	// promoted first), and Stop goes on once the table gives the node no
	// slot, or after DrainTimeout. Zero stops at once.
	DrainTimeout time.Duration
	// Credentials authenticate this node to meta and its peers, and the
	// sessions and peers that connect (certificates or the cluster
	// secret); required: a data port takes no unauthenticated node.
	Credentials netio.Credentials
	// DataCenter names this node's cluster (proto.ValidateDataCenterName);
	// default proto.DefaultDataCenter. Publishers written here originate in
	// it; those imported from linked data centers keep their own.
	DataCenter string
	// DCKeep is how long the publishers imported from a remote data center
	// are kept, as last known, while their remote slot leader cannot be
	// reached (no stream, no repair); then they are removed, and a repair
	// brings them back once it can. Default DefaultDCKeep.
	DCKeep time.Duration
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if len(c.MetaAddrs) == 0 {
		return ErrNoMetaAddrs
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
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.TombstoneTTL <= 0 {
		c.TombstoneTTL = DefaultTombstoneTTL
	}
	if c.RepairInterval <= 0 {
		c.RepairInterval = DefaultRepairInterval
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.ReplicaQueue <= 0 {
		c.ReplicaQueue = DefaultReplicaQueue
	}
	if c.MaxInterestsPerConn == 0 {
		c.MaxInterestsPerConn = DefaultMaxInterestsPerConn
	}
	switch {
	case c.ReplayWindow == 0:
		c.ReplayWindow = DefaultReplayWindow
	case c.ReplayWindow < 0:
		c.ReplayWindow = 0
	}
	if c.DCKeep <= 0 {
		c.DCKeep = DefaultDCKeep
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}
