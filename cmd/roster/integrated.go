package main

import (
	"log/slog"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/session"
)

func runIntegrated(args []string) error {
	fs, f := commandFlags("integrated")
	mf, df, sf, nf := &f.mf, &f.df, &f.sf, &f.nf
	log, err := nf.parse(fs, args)
	if err != nil {
		return err
	}
	st, err := openStore(mf.storeURL, nf.dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := meta.New(mf.config(st, nf, log))
	if err != nil {
		return err
	}
	metaAddr := []string{metaclient.AdvertiseOn(nf.advertise, mf.addr)}
	d, err := data.New(df.config(metaAddr, nf, log))
	if err != nil {
		return err
	}
	s, err := session.New(sessionConfig(*sf, metaAddr, nf, log))
	if err != nil {
		return err
	}
	return serve(log, m, d, s)
}

func sessionConfig(sf sessionFlags, metaAddrs []string, n *nodeFlags, log *slog.Logger) session.Config {
	c := session.Config{ClientAddr: sf.addr, HTTPAddr: sf.httpAddr, AdvertiseHost: n.advertise, MetaAddrs: metaAddrs, Slots: n.slots,
		Zone: sf.zone, ClientToken: sf.token, HeartbeatInterval: sf.heartbeat,
		Debounce: sf.debounce, MaxDebounce: sf.maxDebounce, CompressAbove: sf.compressAbove, DisableDelta: sf.noDelta,
		PausePushAbove: sf.pausePushAbove, PausePushTotal: sf.pausePushTotal, MaxOutbound: sf.maxOut, PushRetry: sf.pushRetry, ScanInterval: sf.scanInterval,
		AdminToken: n.adminToken, Logger: log}
	sf.limits.apply(&c)
	return c
}
