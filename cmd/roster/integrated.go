package main

import (
	"log/slog"
	"os"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/session"
	"github.com/roster-registry/roster/slotstore"
)

func runIntegrated(args []string) error {
	fs := newFlagSet("integrated", "Runs meta, data and session in one process, with the SQLite meta store under --data-dir.\n"+
		"The roles talk over loopback exactly as they would across machines.")
	var mf metaFlags
	var df dataFlags
	var sf sessionFlags
	var lf logFlags
	var dataDir, adminToken string
	var slots int
	mf.register(fs, "")
	df.register(fs)
	sf.register(fs)
	lf.register(fs)
	registerAdminToken(fs, &adminToken)
	fs.StringVar(&dataDir, "data-dir", "var", "directory for the SQLite meta store")
	fs.IntVar(&slots, "slots", slotstore.DefaultSlots, "slots (power of two)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := lf.logger(os.Stderr)
	if err != nil {
		return err
	}
	st, err := openStore(mf.storeURL, dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	// One data node cannot hold a follower of its own slots.
	m, err := meta.New(meta.Config{RPCAddr: mf.addr, HTTPAddr: mf.httpAddr, Store: st, Slots: slots,
		Replicas: mf.replicas, NodeLease: mf.nodeLease, LeaderLease: mf.leaderLease, AdminToken: adminToken, Logger: log})
	if err != nil {
		return err
	}
	metaAddr := []string{metaclient.Advertise(mf.addr)}
	dcfg := df.config(metaAddr, slots, log)
	dcfg.AdminToken = adminToken
	d, err := data.New(dcfg)
	if err != nil {
		return err
	}
	scfg := sessionConfig(sf, metaAddr, slots, log)
	scfg.AdminToken = adminToken
	s, err := session.New(scfg)
	if err != nil {
		return err
	}
	return serve(log, m, d, s)
}

func sessionConfig(sf sessionFlags, metaAddrs []string, slots int, log *slog.Logger) session.Config {
	return session.Config{ClientAddr: sf.addr, HTTPAddr: sf.httpAddr, MetaAddrs: metaAddrs, Slots: slots,
		Zone: sf.zone, ClientToken: sf.token, HeartbeatInterval: sf.heartbeat,
		Debounce: sf.debounce, MaxDebounce: sf.maxDebounce, CompressAbove: sf.compressAbove, DisableDelta: sf.noDelta,
		PausePushAbove: sf.pausePushAbove, MaxOutbound: sf.maxOut, PushRetry: sf.pushRetry, ScanInterval: sf.scanInterval,
		Logger: log}
}
