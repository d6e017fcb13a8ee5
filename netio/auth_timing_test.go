package netio_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// BenchmarkNodePort is a data port's traffic as a session makes it: one
// link, many goroutines each sending a write batch (a 200-byte body) and
// waiting for its answer, pipelined. It compares the gnet server without
// authentication (the data port before node authentication) with the std
// server authenticated by the cluster secret (the default now) and by
// certificates (TLS 1.3 both ways): the ratio of their req/s, and of the
// CPU both ends spend per request, in one run is what it costs.
func BenchmarkNodePort(b *testing.B) {
	p := newPKI(b)
	for _, kind := range []string{"gnet-plain", "std-secret", "std-tls"} {
		b.Run("server="+kind, func(b *testing.B) {
			addr := freeAddr(b)
			cfg := netio.ServerConfig{Name: "bench-" + kind, Addr: addr, Logger: quiet}
			var dialer *netio.Auth
			switch kind {
			case "std-secret":
				cfg.Auth = benchAuth(b, secretCreds(secret), proto.RoleData, addr)
				dialer = benchAuth(b, secretCreds(secret), proto.RoleSession, "127.0.0.1:9600")
			case "std-tls":
				cfg.Auth = benchAuth(b, p.creds(proto.RoleData, addr), proto.RoleData, addr)
				dialer = benchAuth(b, p.creds(proto.RoleSession, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600")
			}
			s := netio.NewServer(cfg, echoHandler{})
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer s.Stop(context.Background())
			l, err := netio.DialLink(context.Background(), s.Addr(), netio.LinkConfig{Auth: dialer, PeerRole: proto.RoleData, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			msg := &proto.DatumFetch{DataInfoID: fmt.Sprintf("%0200d", 0)}
			b.ReportAllocs()
			b.SetParallelism(32)
			var ru0 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Request(context.Background(), msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			cpu := ru.Utime.Nano() + ru.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			// Both ends run in this process: CPU per request (theirs
			// together) is steadier than req/s on a shared machine.
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/req")
		})
	}
}

func benchAuth(b *testing.B, creds netio.Credentials, role proto.Role, addr string) *netio.Auth {
	a, err := netio.NewAuth(creds, role)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.SetSelf(addr+"/1", addr); err != nil {
		b.Fatal(err)
	}
	return a
}
