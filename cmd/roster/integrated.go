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
	fs, f := commandFlags("integrated")
	mf, df, sf, nf := &f.mf, &f.df, &f.sf, &f.nf
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
	m, err := meta.New(mf.config(st, nf, creds, log))
	if err != nil {
		return err
	}
	metaAddr := []string{metaclient.AdvertiseOn(nf.advertise, mf.addr)}
	d, err := data.New(df.config(metaAddr, nf, creds, log))
	if err != nil {
		return err
	}
	s, err := session.New(sessionConfig(*sf, metaAddr, nf, creds, clientLoader, log))
	if err != nil {
		return err
	}
	return serve(log, nf.withProcess([]*certs.Loader{loader, clientLoader}, m, d, s)...)
}

func sessionConfig(sf sessionFlags, metaAddrs []string, n *nodeFlags, creds netio.Credentials, clientTLS *certs.Loader, log *slog.Logger) session.Config {
	c := session.Config{ClientAddr: sf.addr, HTTPAddr: sf.httpAddr, AdvertiseHost: n.advertise, MetaAddrs: metaAddrs, Slots: n.slots, Credentials: creds,
		Zone: sf.zone, ClientToken: sf.token, HeartbeatInterval: sf.heartbeat,
		Debounce: sf.debounce, MaxDebounce: sf.maxDebounce, CompressAbove: sf.compressAbove, DisableDelta: sf.noDelta,
		PausePushAbove: sf.pausePushAbove, PausePushTotal: sf.pausePushTotal, MaxOutbound: sf.maxOut, PushRetry: sf.pushRetry, ScanInterval: sf.scanInterval,
		Admin: n.admin, DataCenter: n.dc, Logger: log}
	sf.limits.apply(&c)
	if clientTLS != nil {
		c.ClientTLS = clientTLS.Certs
	}
	return c
}
