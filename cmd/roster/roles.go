package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/internal/memtrim"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
	"github.com/roster-registry/roster/slotstore"
)

// Flags of each role, shared by its own command and by `integrated`.

type metaFlags struct {
	addr, httpAddr string
	storeURL       string
	replicas       int
	nodeLease      time.Duration
	leaderLease    time.Duration
	appRetention   time.Duration
	firstTableWait time.Duration
}

// register adds the meta flags; firstWait is --first-table-wait's default.
func (f *metaFlags) register(fs *flag.FlagSet, storeDefault, addrDefault, httpHost string, firstWait time.Duration) {
	fs.StringVar(&f.addr, "meta-addr", addrDefault, "meta RPC listen address (nodes heartbeat here)")
	fs.StringVar(&f.httpAddr, "meta-http-addr", httpHost+":9615", "meta HTTP address (health, metrics, slot table, admin); "+httpAddrHelp)
	fs.StringVar(&f.storeURL, "store", storeDefault, "meta store: sqlite:///path/to/meta.db or mysql://user:pass@tcp(host:3306)/db")
	fs.IntVar(&f.replicas, "replicas", 2, "copies of each slot: one leader and replicas-1 followers on other data nodes")
	fs.DurationVar(&f.nodeLease, "node-lease", 5*time.Second, "a data or session node not heard from for this long is dead")
	fs.DurationVar(&f.leaderLease, "leader-lease", 10*time.Second, "meta leader lease in the store; a leader that cannot renew stops acting after it")
	fs.DurationVar(&f.appRetention, "app-revision-retention", meta.DefaultAppRevisionRetention,
		"an app revision no instance names is removed after this long (checked with every session); -1s never")
	fs.DurationVar(&f.firstTableWait, "first-table-wait", firstWait,
		"a new cluster's first slot table waits this long after the first data node registers, so the data nodes started "+
			"together share it at once instead of being balanced in over many rounds; a cluster with a stored table never waits; -1s none")
}

type dataFlags struct {
	addr, httpAddr      string
	repair, antiEntropy time.Duration
	replayWindow        time.Duration
	maxInterests        int
	dcKeep              time.Duration
}

func (f *dataFlags) register(fs *flag.FlagSet, addrDefault, httpHost string) {
	fs.StringVar(&f.addr, "data-addr", addrDefault, "data RPC listen address (sessions write and fetch here)")
	fs.StringVar(&f.httpAddr, "data-http-addr", httpHost+":9622", "data HTTP address (health, metrics, datum queries); "+httpAddrHelp)
	fs.DurationVar(&f.repair, "follower-repair", data.DefaultRepairInterval, "how often a follower compares each slot it follows with the leader (digest, then diff) and repairs it")
	fs.DurationVar(&f.antiEntropy, "session-sync", data.DefaultSyncInterval, "how often a slot leader compares its publishers with every session's and repairs them")
	fs.DurationVar(&f.replayWindow, "replay-window", data.DefaultReplayWindow,
		"after the whole registry restarted (a slot led with no copy left), how long clients are given to reconnect and replay their "+
			"publishers (the SDK retries at least every 5 s): meanwhile a subscriber that held a list keeps it, so no live publisher "+
			"vanishes from it; then it gets the registry's, without the publishers of clients that did not come back; negative: none")
	fs.IntVar(&f.maxInterests, data.FlagMaxInterestsPerConn, data.DefaultMaxInterestsPerConn,
		"dataInfoIds one session connection may ask notifies for; an interest past it is refused; negative: no limit")
	fs.DurationVar(&f.dcKeep, "dc-keep", data.DefaultDCKeep,
		"how long the publishers imported from a remote data center are kept, as last known, while it cannot be reached; then they are removed until it comes back")
}

func (f *dataFlags) config(metaAddrs []string, n *nodeFlags, creds netio.Credentials, log *slog.Logger) data.Config {
	return data.Config{RPCAddr: f.addr, HTTPAddr: f.httpAddr, AdvertiseHost: n.advertise, MetaAddrs: metaAddrs, Slots: n.slots,
		RepairInterval: f.repair, SyncInterval: f.antiEntropy, ReplayWindow: f.replayWindow,
		MaxInterestsPerConn: f.maxInterests, Admin: n.admin, Credentials: creds, DataCenter: n.dc,
		DCKeep: f.dcKeep, Logger: log}
}

func (f *metaFlags) config(st store.Store, n *nodeFlags, creds netio.Credentials, log *slog.Logger) meta.Config {
	return meta.Config{RPCAddr: f.addr, HTTPAddr: f.httpAddr, AdvertiseHost: n.advertise, Store: st, Slots: n.slots, Replicas: f.replicas,
		NodeLease: f.nodeLease, LeaderLease: f.leaderLease, AppRevisionRetention: f.appRetention, FirstTableWait: f.firstTableWait, Admin: n.admin, Credentials: creds, DataCenter: n.dc, Logger: log}
}

// nodeFlags are the flags every role command has: logging, admin access,
// the node credentials, the slot count, and (per command) the meta
// addresses or the directory of the SQLite store.
type nodeFlags struct {
	log       logFlags
	auth      nodeAuthFlags
	admin     opshttp.AdminConfig
	tokenFile string // --admin-token-file, read by parse into admin.Token
	slots     int
	metaAddrs string
	dataDir   string
	drain     time.Duration
	memory    memoryLimitFlag
	trim      memoryTrimFlag
	trimmer   *memtrim.Trimmer // from trim by parse; nil when off
	advertise string
	dc        string // --datacenter
}

func (f *nodeFlags) register(fs *flag.FlagSet, meta, dataDir bool) {
	f.log.register(fs)
	f.memory.register(fs)
	f.trim.register(fs)
	f.auth.register(fs)
	registerAdmin(fs, &f.admin, &f.tokenFile)
	fs.StringVar(&f.advertise, "advertise-addr", "", "host (IP or DNS name, no port) other nodes and clients reach this node at: its addresses "+
		"are advertised to meta with this host and the ports it listens on; default: the listen host, or this machine's first "+
		"global unicast IPv4 address when listening on all interfaces (set it behind NAT, in containers, or to use DNS names)")
	fs.StringVar(&f.dc, "datacenter", proto.DefaultDataCenter, "name of this node's data center: one cluster (its meta, data and session nodes) is one data center; "+
		"clusters of other data centers are linked with 'roster ctl dc add'")
	fs.IntVar(&f.slots, "slots", slotstore.DefaultSlots, "slots in the cluster (power of two, fixed for the cluster's life; every node must agree)")
	if meta {
		fs.StringVar(&f.metaAddrs, "meta", "127.0.0.1:9610", "comma-separated meta RPC addresses")
		fs.DurationVar(&f.drain, "drain-timeout", 10*time.Second, "on SIGTERM, drain first for at most this long: a session tells its clients to move "+
			"to other sessions and waits for them to leave; a data node waits until meta moved its slots elsewhere (synced followers promoted first); 0 stops at once")
	}
	if dataDir {
		fs.StringVar(&f.dataDir, "data-dir", "var", "directory for the SQLite meta store when --store is not given")
	}
}

// parse parses args (with the environment and --config, see config.go),
// sets the memory limit, makes the memory trimmer and returns the logger
// they ask for.
func (f *nodeFlags) parse(fs *flag.FlagSet, args []string) (*slog.Logger, error) {
	registerConfig(fs)
	if err := parseFlags(fs, args, envPrefix); err != nil {
		return nil, err
	}
	if err := readAdminTokenFile(&f.admin, f.tokenFile); err != nil {
		return nil, err
	}
	host, err := advertiseHost(f.advertise)
	if err != nil {
		return nil, err
	}
	f.advertise = host
	if err := proto.ValidateDataCenterName(f.dc); err != nil {
		return nil, fmt.Errorf("--datacenter: %w", err)
	}
	log, err := f.log.logger(os.Stderr)
	if err != nil {
		return nil, err
	}
	if f.trimmer, err = f.trim.trimmer(log); err != nil {
		return nil, err
	}
	return log, f.memory.apply(log)
}

type sessionFlags struct {
	addr, httpAddr          string
	zone, token             string
	heartbeat               time.Duration
	debounce, maxDebounce   time.Duration
	compressAbove           int
	noDelta                 bool
	pausePushAbove, maxOut  int
	pausePushTotal          int
	scanInterval, pushRetry time.Duration
	limits                  sessionLimitFlags
	clientTLS               clientTLSFlags
}

// sessionLimitFlags are the session's admission limits (session/limits.go).
type sessionLimitFlags struct {
	connRate, nodeRate   float64
	connBurst, nodeBurst int
	maxPubs, maxData     int
	maxServices          int
	maxConns             int
	maxConnsPerIP        int
	handshakeTimeout     time.Duration
	tempRate             float64
	tempBurst            int
	capacity             int
}

func (f *sessionLimitFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.connRate, session.FlagConnRegisterRate, session.DefaultConnRegisterRate,
		"registrations and unregistrations per second one client connection may sustain; over it the client gets a rate-limited "+
			"answer and the SDK retries with backoff; -1: no limit")
	fs.IntVar(&f.connBurst, session.FlagConnRegisterBurst, session.DefaultConnRegisterBurst,
		"registrations one client connection may send at once above its rate; must cover the replay of a reconnecting client "+
			"(its publishers and subscribers); -1: no limit")
	fs.Float64Var(&f.nodeRate, session.FlagNodeRegisterRate, session.DefaultNodeRegisterRate,
		"registrations and unregistrations per second of all clients of this session together; -1: no limit")
	fs.IntVar(&f.nodeBurst, session.FlagNodeRegisterBurst, session.DefaultNodeRegisterBurst,
		"registrations all clients together may send at once above the session's rate; -1: no limit")
	fs.IntVar(&f.maxPubs, session.FlagMaxPublishersPerConn, session.DefaultMaxPublishersPerConn,
		"publishers one client connection may hold; more are refused; -1: no limit")
	fs.IntVar(&f.maxServices, session.FlagMaxServicesPerConn, session.DefaultMaxPublishersPerConn,
		"services (dataInfoIds) one client connection may subscribe to; more are refused; -1: no limit")
	fs.IntVar(&f.maxData, session.FlagMaxDataBytes, 256<<10,
		"total data bytes of one publisher; a larger one is refused")
	fs.IntVar(&f.maxConns, session.FlagMaxConns, session.DefaultMaxConns(),
		"client connections this session serves; the handshake of one more is refused so the client tries another session "+
			"(by default half the open-files limit, at most 50000); -1: no limit")
	fs.IntVar(&f.maxConnsPerIP, session.FlagMaxConnsPerIP, 0,
		"client connections this session serves from one IP; more are refused at their handshake (0: a quarter of --"+
			session.FlagMaxConns+", at least 16); -1: no limit")
	fs.DurationVar(&f.handshakeTimeout, session.FlagHandshakeTimeout, session.DefaultHandshakeTimeout,
		"a client connection that has not completed its handshake this long after connecting is closed")
	fs.Float64Var(&f.tempRate, session.FlagTemporaryRate, session.DefaultTemporaryRate,
		"temporary publications (pushed to current subscribers, never stored) per second one client connection may sustain; "+
			"each is a fan-out to every subscriber of its service; -1: no limit")
	fs.IntVar(&f.tempBurst, session.FlagTemporaryBurst, session.DefaultTemporaryBurst,
		"temporary publications one client connection may send at once above its rate; -1: no limit")
	fs.IntVar(&f.capacity, session.FlagCapacity, session.DefaultCapacity,
		"this session's share of clients relative to the other sessions' (only the ratio matters), in the weighted session "+
			"list /api/servers/queryWithWeight from which SDKs pick and rebalance")
}

func (f *sessionLimitFlags) apply(c *session.Config) {
	c.ConnRegisterRate, c.ConnRegisterBurst = f.connRate, f.connBurst
	c.NodeRegisterRate, c.NodeRegisterBurst = f.nodeRate, f.nodeBurst
	c.MaxPublishersPerConn, c.MaxServicesPerConn, c.MaxDataBytes = f.maxPubs, f.maxServices, f.maxData
	c.MaxConns, c.MaxConnsPerIP, c.HandshakeTimeout = f.maxConns, f.maxConnsPerIP, f.handshakeTimeout
	c.TemporaryRate, c.TemporaryBurst = f.tempRate, f.tempBurst
	c.Capacity = f.capacity
}

func (f *sessionFlags) register(fs *flag.FlagSet, httpHost string) {
	fs.StringVar(&f.addr, "session-addr", ":9600", "session client listen address (SDK clients connect here)")
	fs.StringVar(&f.httpAddr, "session-http-addr", httpHost+":9603", "session HTTP address (health, metrics, /api/servers/query, digests); "+httpAddrHelp)
	fs.StringVar(&f.zone, "zone", "DEFAULT_ZONE", "zone given to clients that do not name one")
	fs.StringVar(&f.token, "client-token", "", "when set, clients must present this token in their handshake")
	fs.DurationVar(&f.heartbeat, "client-heartbeat", 5*time.Second, "client heartbeat interval; a client silent for 3 intervals is dropped and its publishers removed")
	fs.DurationVar(&f.debounce, "push-debounce", 20*time.Millisecond, "a changed service is fetched and pushed this long after its last change (bursts merge)")
	fs.DurationVar(&f.maxDebounce, "push-max-debounce", 200*time.Millisecond, "under continuous changes, a push waits at most this long after the first change")
	fs.IntVar(&f.compressAbove, "push-compress-above", 4<<10, "push bodies larger than this many bytes are compressed (zstd) for clients that accept it; -1 never")
	fs.BoolVar(&f.noDelta, "push-no-delta", false, "always push full lists instead of deltas (for measuring)")
	fs.IntVar(&f.pausePushAbove, "push-pause-above", 1<<20, "a client with more bytes waiting to be written gets no pushes until it drains")
	fs.IntVar(&f.pausePushTotal, "push-pause-total", 64<<20, "while all clients together have more bytes waiting to be written, a client with any gets no pushes until it drains "+
		"(bounds the memory slow readers hold; those keeping up are still served)")
	fs.IntVar(&f.maxOut, "client-max-outbound", 8<<20, "a client with more bytes waiting to be written is disconnected")
	fs.DurationVar(&f.pushRetry, "push-retry", time.Second, "least wait before resending an unacknowledged push on a live connection once a later push on it was acknowledged (a connection whose acks take longer waits 4 of its smoothed ack times, and none is resent before the connection wrote what it queued); with no later push acknowledged, four times as long; doubles with each resend up to 30s")
	fs.DurationVar(&f.scanInterval, "version-scan", 5*time.Second, "how often subscribed versions are compared with the data leaders to repair missed pushes")
	f.limits.register(fs)
	f.clientTLS.register(fs)
}

// httpAddrHelp ends the help of every HTTP address flag.
const httpAddrHelp = "beyond loopback it needs --admin-token or --admin-token-file (or --admin-insecure)"

// registerAdmin adds the flags of admin access. --admin-token defaults to
// $ROSTER_ADMIN_TOKEN so the token need not show in the process list;
// --admin-token-file keeps it off the command line and the environment.
func registerAdmin(fs *flag.FlagSet, c *opshttp.AdminConfig, tokenFile *string) {
	fs.StringVar(&c.Token, opshttp.FlagAdminToken, "",
		"bearer token the HTTP admin endpoints (client off/open, push switch, drain, credentials) and profiles require; "+
			"empty: they answer requests from this machine only, and a node whose HTTP address is not loopback-only refuses "+
			"to start unless --admin-insecure (also $ROSTER_ADMIN_TOKEN, like every flag; --admin-token-file keeps it out of the process list)")
	fs.StringVar(tokenFile, opshttp.FlagAdminTokenFile, "", "file holding the admin token (surrounding white space ignored); replaces --admin-token")
	fs.BoolVar(&c.Insecure, opshttp.FlagAdminInsecure, false, "start without an admin token although the HTTP address is not loopback-only: "+
		"the admin endpoints then answer requests from this machine only (that carry the X-Roster-Admin header and come from no web page)")
	fs.BoolVar(&c.ProtectReads, opshttp.FlagProtectReads, false, "require the admin token on the HTTP reads that expose registerIds, client IPs "+
		"and topology too (digests, node lists, slot table, connections, /metrics); needs --admin-token or --admin-token-file")
}

// readAdminTokenFile sets c.Token from path, if given.
func readAdminTokenFile(c *opshttp.AdminConfig, path string) error {
	if path == "" {
		return nil
	}
	t, err := opshttp.ReadTokenFile(path)
	if err != nil {
		return err
	}
	c.Token = t
	return nil
}

// advertiseHost checks --advertise-addr: a host without a port (the ports
// are those the node listens on); brackets around an IPv6 address are dropped.
func advertiseHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if _, _, err := net.SplitHostPort(s); err == nil || strings.ContainsAny(s, "/ ") {
		return "", fmt.Errorf("invalid --advertise-addr %q: want a host (IP or DNS name) without a port; the ports are those of the listen flags", s)
	}
	if ip, err := netip.ParseAddr(s); err == nil && (ip.IsUnspecified() || ip.IsMulticast()) {
		return "", fmt.Errorf("invalid --advertise-addr %q: other nodes cannot reach an unspecified or multicast address", s)
	}
	return s, nil
}

func defaultStore(dataDir string) string {
	return "sqlite://" + filepath.Join(dataDir, "meta.db")
}

func openStore(url, dataDir string) (store.Store, error) {
	if url == "" {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create data directory %s: %w", dataDir, err)
		}
		url = defaultStore(dataDir)
	}
	st, err := store.Open(url)
	if err != nil {
		return nil, fmt.Errorf("cannot open meta store %s: %w", url, err)
	}
	return st, nil
}

// serverCommands are the commands that run roles.
var serverCommands = []string{"integrated", "meta", "data", "session"}

// roleFlags are the flags of a server command: those of the roles it runs.
type roleFlags struct {
	mf metaFlags
	df dataFlags
	sf sessionFlags
	nf nodeFlags
}

// commandFlags returns the flag set of a server command (serverCommands)
// and where its values land; deploy/ is checked against these.
func commandFlags(cmd string) (*flag.FlagSet, *roleFlags) {
	f := &roleFlags{}
	var fs *flag.FlagSet
	switch cmd {
	case "integrated":
		fs = newFlagSet(cmd, "Runs meta, data and session in one process, with the SQLite meta store under --data-dir.\n"+
			"The roles talk over loopback exactly as they would across machines: their RPC ports bind 127.0.0.1 unless\n"+
			"told otherwise, and their links are authenticated with a secret of this process unless --cluster-secret-file\n"+
			"or --tls-* are given (a TLS certificate must then name all three roles: `roster cert node --role meta,data,session`).")
		// The HTTP servers listen on loopback by default: with no admin
		// token, a node serving HTTP beyond loopback refuses to start
		// (opshttp). The internal RPC ports (meta, data) are loopback-only too.
		// Its own data node starts with it: no wait for others.
		f.mf.register(fs, "", "127.0.0.1:9610", "127.0.0.1", -1)
		f.df.register(fs, "127.0.0.1:9620", "127.0.0.1")
		f.sf.register(fs, "127.0.0.1")
		f.nf.register(fs, false, true)
	case "meta":
		fs = newFlagSet(cmd, "Runs a meta node. Several meta nodes share one MySQL store and elect a leader through it.")
		f.mf.register(fs, "", ":9610", "", meta.DefaultFirstTableWait)
		f.nf.register(fs, false, true)
	case "data":
		fs = newFlagSet(cmd, "Runs a data node: holds the publishers of the slots the meta leader assigns it.")
		f.df.register(fs, ":9620", "")
		f.nf.register(fs, true, false)
	case "session":
		fs = newFlagSet(cmd, "Runs a session node: serves SDK clients, forwards their writes, pushes changes.")
		f.sf.register(fs, "")
		f.nf.register(fs, true, false)
	default:
		panic("commandFlags: not a server command: " + cmd)
	}
	return fs, f
}

func runMeta(args []string) error {
	fs, f := commandFlags("meta")
	mf, nf := &f.mf, &f.nf
	log, err := nf.parse(fs, args)
	if err != nil {
		return err
	}
	creds, loader, err := nf.auth.credentials("meta", log)
	if err != nil {
		return err
	}
	st, err := openStore(mf.storeURL, nf.dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := meta.New(mf.config(st, nf, creds, log))
	if err != nil {
		return err
	}
	return serve(log, nf.withProcess([]*certs.Loader{loader}, m)...)
}

func runData(args []string) error {
	fs, f := commandFlags("data")
	df, nf := &f.df, &f.nf
	log, err := nf.parse(fs, args)
	if err != nil {
		return err
	}
	creds, loader, err := nf.auth.credentials("data", log)
	if err != nil {
		return err
	}
	cfg := df.config(splitList(nf.metaAddrs), nf, creds, log)
	cfg.DrainTimeout = nf.drain
	d, err := data.New(cfg)
	if err != nil {
		return err
	}
	return serveDraining(log, nf.drain, nf.withProcess([]*certs.Loader{loader}, d)...)
}

func runSession(args []string) error {
	fs, f := commandFlags("session")
	sf, nf := &f.sf, &f.nf
	log, err := nf.parse(fs, args)
	if err != nil {
		return err
	}
	creds, loader, err := nf.auth.credentials("session", log)
	if err != nil {
		return err
	}
	clientLoader, err := sf.clientTLS.loader("session", log)
	if err != nil {
		return err
	}
	cfg := sessionConfig(*sf, splitList(nf.metaAddrs), nf, creds, clientLoader, log)
	cfg.DrainTimeout = nf.drain
	s, err := session.New(cfg)
	if err != nil {
		return err
	}
	return serveDraining(log, nf.drain, nf.withProcess([]*certs.Loader{loader, clientLoader}, s)...)
}

// withProcess puts what serves the whole process first among roles: the
// memory trimmer and the certificate loaders in use start before the roles
// and stop after them.
func (f *nodeFlags) withProcess(loaders []*certs.Loader, roles ...role) []role {
	var out []role
	if f.trimmer != nil {
		out = append(out, f.trimmer)
	}
	for _, l := range loaders {
		if l != nil {
			out = append(out, l)
		}
	}
	return append(out, roles...)
}
