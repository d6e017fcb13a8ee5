package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// attack is one class of hostile input: run sends it at the target until
// ctx ends and returns how many connections it opened and what it saw.
type attack struct {
	name, what string
	run        func(ctx context.Context, t *target) (conns int64, note string)
}

var attacks = []attack{
	{"compressed-bomb", "a zstd frame of ~200 bytes that inflates to 4 MiB, after the handshake, again and again on 20 connections",
		func(ctx context.Context, t *target) (int64, string) {
			bomb := proto.AppendCompressed(nil, proto.AppendFrame(nil, 2, 0, &proto.Publisher{DataInfoID: "bomb", RegisterID: "b",
				Version: 1, Data: []string{string(make([]byte, 4<<20))}}), proto.EncodingZstd)
			return flood(ctx, 20, dialer(t.addrs["session"]), func(ctx context.Context, c net.Conn) error {
				if err := handshake(c); err != nil {
					return err
				}
				return writeUntilClosed(ctx, c, bomb)
			}), ""
		}},
	{"bomb-before-handshake", "the same frame before any handshake, on 20 connections",
		func(ctx context.Context, t *target) (int64, string) {
			bomb := proto.AppendCompressed(nil, proto.AppendFrame(nil, 2, 0, &proto.Publisher{DataInfoID: "bomb", RegisterID: "b",
				Version: 1, Data: []string{string(make([]byte, 4<<20))}}), proto.EncodingZstd)
			return flood(ctx, 20, dialer(t.addrs["session"]), func(ctx context.Context, c net.Conn) error {
				return writeUntilClosed(ctx, c, bomb)
			}), ""
		}},
	{"frame-dribble", "a header announcing a 16 MiB frame, then its body a byte every 100 ms, on 200 handshaken connections",
		func(ctx context.Context, t *target) (int64, string) {
			hdr := proto.AppendHeader(nil, proto.Header{Length: proto.DefaultMaxBody - 1, Type: proto.TypePublisher, RequestID: 2})
			return flood(ctx, 200, dialer(t.addrs["session"]), func(ctx context.Context, c net.Conn) error {
				if err := handshake(c); err != nil {
					return err
				}
				if _, err := c.Write(hdr); err != nil {
					return err
				}
				return trickle(ctx, c, []byte{0}, 100*time.Millisecond)
			}), ""
		}},
	{"idle-node-conns", "1,500 TCP connections to the data and the meta port that never handshake",
		func(ctx context.Context, t *target) (int64, string) {
			var n atomic.Int64
			var wg sync.WaitGroup
			for _, port := range []string{"data", "meta"} {
				wg.Go(func() { n.Add(flood(ctx, 750, dialer(t.addrs[port]), idle)) })
			}
			wg.Wait()
			return n.Load(), ""
		}},
	{"slow-http", "1,500 connections to the session's HTTP port sending request headers a byte a second",
		func(ctx context.Context, t *target) (int64, string) {
			return flood(ctx, 1500, dialer(t.addrs["session-http"]), func(ctx context.Context, c net.Conn) error {
				if _, err := c.Write([]byte("GET /health/check HTTP/1.1\r\nHost: x\r\n")); err != nil {
					return err
				}
				return trickle(ctx, c, []byte{'X'}, time.Second)
			}), ""
		}},
	{"app-revision-flood", "app revision records (each a write to meta's store) as fast as 10 connections can send them",
		func(ctx context.Context, t *target) (int64, string) {
			var seq atomic.Int64
			return flood(ctx, 10, dialer(t.addrs["session"]), func(ctx context.Context, c net.Conn) error {
				if err := handshake(c); err != nil {
					return err
				}
				go func() { _, _ = io.Copy(io.Discard, c) }() // replies, mostly refusals
				for ctx.Err() == nil {
					var b []byte
					for range 100 {
						i := seq.Add(1)
						svcs := []proto.AppService{{Interface: fmt.Sprintf("com.example.Flood%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", i)}}
						b = proto.AppendFrame(b, uint64(i), 0, &proto.AppRevision{App: "flood", Services: svcs, Revision: proto.AppRevisionOf("flood", svcs)})
					}
					if _, err := c.Write(b); err != nil {
						return err
					}
				}
				return nil
			}), ""
		}},
	{"client-off-growth", "an admin adding 1,000 client-off IPs a request, 30 times (the list goes to every node in heartbeat replies)",
		func(ctx context.Context, t *target) (int64, string) {
			codes := map[int]int{}
			for r := range 30 {
				ips := make([]string, 1000)
				for i := range ips {
					ips[i] = fmt.Sprintf("10.%d.%d.%d", 100+r, i/250, i%250)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+t.addrs["meta-http"]+"/api/clientManager/clientOff",
					strings.NewReader(url.Values{"ips": {strings.Join(ips, ",")}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				opshttp.SetAdminHeaders(req, t.token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					codes[0]++
					continue
				}
				resp.Body.Close()
				codes[resp.StatusCode]++
			}
			// Clean up: the legitimate clients' IP is 127.0.0.1, never listed.
			<-ctx.Done()
			return 1, fmt.Sprintf("answers %v", codes)
		}},
	{"fd-exhaustion", "3,000 idle connections over the client, data and HTTP ports of the node (its open-files limit in the header)",
		func(ctx context.Context, t *target) (int64, string) {
			var n atomic.Int64
			var wg sync.WaitGroup
			for _, port := range []string{"session", "data", "session-http"} {
				wg.Go(func() { n.Add(flood(ctx, 1000, dialer(t.addrs[port]), idle)) })
			}
			wg.Wait()
			return n.Load(), ""
		}},
}

// intensity scales the attacks: the workers of each (scale) and the pause
// before a worker dials again after the target closed its connection
// (redial). A short run on a shared machine (TestHostileShort) must not
// use up the loopback's ephemeral ports for everyone else with hundreds of
// thousands of refused connections.
var intensity = struct {
	scale  float64
	redial time.Duration
}{1, 10 * time.Millisecond}

// flood runs n workers (times intensity.scale), each dialing and running feed until ctx ends,
// dialing again whenever the target closes its connection. It returns the
// connections opened.
func flood(ctx context.Context, n int, dial func(ctx context.Context) (net.Conn, error), feed func(context.Context, net.Conn) error) int64 {
	var opened atomic.Int64
	var wg sync.WaitGroup
	for range max(1, int(float64(n)*intensity.scale)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				c, err := dial(ctx)
				if err != nil {
					sleep(ctx, 50*time.Millisecond)
					continue
				}
				opened.Add(1)
				stop := context.AfterFunc(ctx, func() { c.Close() })
				_ = feed(ctx, c)
				stop()
				c.Close()
				sleep(ctx, intensity.redial)
			}
		})
	}
	wg.Wait()
	return opened.Load()
}

func dialer(addr string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return d.DialContext(ctx, "tcp", addr)
	}
}

// idle holds c open, sending nothing, until the target closes it or ctx ends.
func idle(ctx context.Context, c net.Conn) error {
	_, err := io.Copy(io.Discard, c)
	return err
}

// trickle writes b every interval until a write fails or ctx ends.
func trickle(ctx context.Context, c net.Conn, b []byte, interval time.Duration) error {
	for ctx.Err() == nil {
		if _, err := c.Write(b); err != nil {
			return err
		}
		sleep(ctx, interval)
	}
	return nil
}

// writeUntilClosed writes frame until the target closes the connection.
func writeUntilClosed(ctx context.Context, c net.Conn, frame []byte) error {
	go func() { _, _ = io.Copy(io.Discard, c) }()
	for ctx.Err() == nil {
		if _, err := c.Write(frame); err != nil {
			return err
		}
	}
	return nil
}

// handshake does a client handshake on c and reads its answer.
func handshake(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(proto.AppendFrame(nil, 1, 0, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "hostile"})); err != nil {
		return err
	}
	var hdr [proto.HeaderSize]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return err
	}
	h, err := proto.ParseHeader(hdr[:], proto.DefaultMaxBody)
	if err != nil {
		return err
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(c, body); err != nil {
		return err
	}
	if h.Type != proto.TypeHandshakeReply {
		return fmt.Errorf("handshake answered %s", h.Type)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
