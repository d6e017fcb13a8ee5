package main

import (
	"log/slog"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/session"
)

func runIntegrated(args []string) error {
	fs := newFlagSet("integrated", "Runs meta, data and session in one process, with the SQLite meta store under --data-dir.\n"+
		"The roles talk over loopback exactly as they would across machines: their RPC ports bind 127.0.0.1 unless\n"+
		"told otherwise, and their links are authenticated with a secret of this process unless --cluster-secret-file\n"+
		"or --tls-* are given (a TLS certificate must then name all three roles: `roster cert node --role meta,data,session`).")
	var mf metaFlags
	var df dataFlags
	var sf sessionFlags
	var nf nodeFlags
	// The HTTP servers listen on loopback by default: with no admin token,
	// a node serving HTTP beyond loopback refuses to start (opshttp). The
	// internal RPC ports (meta, data) are loopback-only too.
	mf.register(fs, "", "127.0.0.1:9610", "127.0.0.1")
	df.register(fs, "127.0.0.1:9620", "127.0.0.1")
	sf.register(fs, "127.0.0.1")
	nf.register(fs, false, true)
	log, err := nf.parse(fs, args)
	if err != nil {
		return err
	}
	creds, loader, err := nf.auth.generated(log)
	if err != nil {
		return err
	}
	clientLoader, err := sf.clientTLS.loader("integrated", log)
	if err != nil {
		return err
	}
	st, err := openStore(mf.storeURL, nf.dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := meta.New(mf.config(st, &nf, creds, log))
	if err != nil {
		return err
	}
	metaAddr := []string{metaclient.Advertise(mf.addr)}
	d, err := data.New(df.config(metaAddr, &nf, creds, log))
	if err != nil {
		return err
	}
	s, err := session.New(sessionConfig(sf, metaAddr, &nf, creds, clientLoader, log))
	if err != nil {
		return err
	}
	return serve(log, withLoaders([]*certs.Loader{loader, clientLoader}, m, d, s)...)
}

func sessionConfig(sf sessionFlags, metaAddrs []string, n *nodeFlags, creds netio.Credentials, clientTLS *certs.Loader, log *slog.Logger) session.Config {
	c := session.Config{ClientAddr: sf.addr, HTTPAddr: sf.httpAddr, MetaAddrs: metaAddrs, Slots: n.slots, Credentials: creds,
		Zone: sf.zone, ClientToken: sf.token, HeartbeatInterval: sf.heartbeat,
		Debounce: sf.debounce, MaxDebounce: sf.maxDebounce, CompressAbove: sf.compressAbove, DisableDelta: sf.noDelta,
		PausePushAbove: sf.pausePushAbove, PausePushTotal: sf.pausePushTotal, MaxOutbound: sf.maxOut, PushRetry: sf.pushRetry, ScanInterval: sf.scanInterval,
		Admin: n.admin, Logger: log}
	sf.limits.apply(&c)
	if clientTLS != nil {
		c.ClientTLS = clientTLS.Certs
	}
	return c
}
