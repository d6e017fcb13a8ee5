package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// Session lists that follow the cluster. With Config.ServersURL the client
// reads the weighted session list of its zone (a session's
// /api/servers/queryWithWeight: each session's address, zone, clients,
// capacity and weight = capacity / (clients + 1)) at start, every
// Config.ServersRefresh (jittered) and when a session asks it to move. It
// connects to the better of two sessions drawn at random (power of two
// choices: nearly as good as the least loaded, without every client of a
// fleet rushing to the same one), and while connected it may move, a few
// clients at a time, off a session holding far more than its share: so a
// new session gets clients without anyone draining the others.
//
// SOFARegistry's clients pick a session at random from a list fetched
// once, and rebalance only when an operator drains; its session list has
// no load. Here the load comes with the list, the refresh and the moves
// are randomised and bounded (see moveChance), and a move is the drain's
// Move path: the client tells its session, which keeps its publishers
// until the replay on the new session took them over, so no subscriber
// sees them go and no subscription is dropped.

// Defaults of the Config fields below.
const (
	defaultServersRefresh       = 30 * time.Second
	defaultRebalanceAbove       = 1.25
	defaultRebalanceMaxFraction = 0.05
	// maxWeightedSessions bounds the entries taken from a session list.
	maxWeightedSessions = 10_000
)

// sessionWeight is one entry of /api/servers/queryWithWeight.
type sessionWeight struct {
	Addr     string  `json:"addr"`
	Zone     string  `json:"zone"`
	Clients  uint32  `json:"clients"`
	Capacity uint32  `json:"capacity"`
	Weight   float64 `json:"weight"`
}

// weightedURL is the weighted list's URL of a ServersURL naming
// /api/servers/query (or already /api/servers/queryWithWeight), for zone;
// ok is false for any other URL.
func weightedURL(servers, zone string) (string, bool) {
	u, err := url.Parse(servers)
	if err != nil {
		return "", false
	}
	switch {
	case strings.HasSuffix(u.Path, "/api/servers/queryWithWeight"):
	case strings.HasSuffix(u.Path, "/api/servers/query"):
		u.Path += "WithWeight"
	default:
		return "", false
	}
	q := u.Query()
	q.Set("zone", zone)
	u.RawQuery = q.Encode()
	return u.String(), true
}

// fetchWeighted reads a weighted session list; entries that are not
// host:port, or not finite and non-negative, are skipped.
func fetchWeighted(ctx context.Context, u string, timeout time.Duration) ([]sessionWeight, error) {
	var list []sessionWeight
	err := getSessionList(ctx, u, timeout, "weighted session list", func(body io.Reader) (err error) {
		list, err = parseWeighted(body)
		return err
	})
	return list, err
}

// parseWeighted decodes a weighted session list (at most maxServersBody
// bytes are read), skipping entries that are not host:port or whose
// weight is not finite and non-negative, and keeping at most
// maxWeightedSessions.
func parseWeighted(r io.Reader) ([]sessionWeight, error) {
	var list []sessionWeight
	if err := json.NewDecoder(io.LimitReader(r, maxServersBody)).Decode(&list); err != nil {
		return nil, fmt.Errorf("cannot decode weighted session list: %w", err)
	}
	out := list[:0]
	for _, e := range list {
		if len(out) < maxWeightedSessions && validAddr(e.Addr) == nil && e.Weight >= 0 && e.Weight <= 1e12 {
			out = append(out, e)
		}
	}
	return out, nil
}

// balancer holds the last weighted session list.
type balancer struct {
	mu   sync.Mutex
	list []sessionWeight // replaced whole, never changed in place
	wake chan struct{}   // one slot: refresh now (a session asked to move)
}

func (b *balancer) get() []sessionWeight {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.list
}

func (b *balancer) set(list []sessionWeight) {
	b.mu.Lock()
	b.list = list
	b.mu.Unlock()
}

// pick is the wire.ClientConfig.Pick of a client with a weighted list:
// the better of two random sessions other than the one just lost.
func (c *Client) pick(lost string) string {
	return p2c(c.bal.get(), func(e sessionWeight) bool { return e.Addr != lost }, rand.IntN)
}

// p2c returns the address of the higher weight of two distinct entries of
// list drawn at random among those keep accepts and that take clients
// (capacity above 0); the one when there is one, "" when none.
func p2c(list []sessionWeight, keep func(sessionWeight) bool, intN func(int) int) string {
	cand := make([]int, 0, len(list))
	for i, e := range list {
		if e.Capacity > 0 && keep(e) {
			cand = append(cand, i)
		}
	}
	switch len(cand) {
	case 0:
		return ""
	case 1:
		return list[cand[0]].Addr
	}
	i := intN(len(cand))
	j := intN(len(cand) - 1)
	if j >= i {
		j++ // distinct from i
	}
	a, b := list[cand[i]], list[cand[j]]
	if b.Weight > a.Weight {
		return b.Addr
	}
	return a.Addr
}

// moveChance is the probability with which a client of session self
// moves in one refresh. Each session's fair share is the list's clients
// times its share of the list's capacity. Clients move only while the list
// is badly unbalanced (a session holds more than above times its fair
// share, or less than its fair share divided by above: a new session), and
// only off a session over its fair share: with half its excess over it, as
// a fraction of its clients, at most maxFraction. Every client of self
// deciding alike, the expected movers of one refresh are half the excess
// (the lists they decide on are up to a refresh old: moving all of it at
// once would overshoot), at most maxFraction of its clients; and once
// every session is within above of its share nobody moves, so sessions do
// not trade clients back and forth.
func moveChance(list []sessionWeight, self string, above, maxFraction float64) float64 {
	if above < 1 || maxFraction <= 0 {
		return 0
	}
	var total, capacity float64
	var me *sessionWeight
	for i := range list {
		e := &list[i]
		if e.Capacity == 0 {
			continue
		}
		total += float64(e.Clients)
		capacity += float64(e.Capacity)
		if e.Addr == self {
			me = e
		}
	}
	if me == nil || me.Clients == 0 || capacity == 0 {
		return 0
	}
	fair := func(e *sessionWeight) float64 { return total * float64(e.Capacity) / capacity }
	if float64(me.Clients) <= fair(me) {
		return 0
	}
	unbalanced := false
	for i := range list {
		e := &list[i]
		if f := fair(e); e.Capacity > 0 && (float64(e.Clients) > above*f || float64(e.Clients) < f/above) {
			unbalanced = true
			break
		}
	}
	if !unbalanced {
		return 0
	}
	return min((float64(me.Clients)-fair(me))/(2*float64(me.Clients)), maxFraction)
}

// refreshLoop fetches the weighted session list every ServersRefresh
// (each wait drawn from 3/4 to 5/4 of it, so that a fleet started at once
// spreads out) or when woken, and rebalances, until the client closes.
func (c *Client) refreshLoop(u string) {
	for {
		t := time.NewTimer(spread(c.cfg.ServersRefresh))
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-c.bal.wake:
			t.Stop()
		}
		list, err := fetchWeighted(c.ctx, u, c.cfg.RequestTimeout)
		if err != nil {
			c.pushLog.Warn(c.log, "cannot refresh the session list", "url", u, "err", err)
			continue
		}
		if len(list) == 0 {
			continue
		}
		c.bal.set(list)
		c.rebalance(list)
	}
}

// spread draws a duration from [3d/4, 5d/4].
func spread(d time.Duration) time.Duration {
	return d*3/4 + rand.N(d/2+1)
}

// rebalance moves the client off its session with moveChance's
// probability, to the better of two random sessions of the list weighing
// more than its own. It tells its session first (which then keeps its
// publishers while it replays them on the new one); a session that does
// not answer is not left.
func (c *Client) rebalance(list []sessionWeight) {
	l := c.conn.Link()
	if l == nil {
		return
	}
	self := l.Addr()
	chance := moveChance(list, self, c.cfg.RebalanceAbove, c.cfg.RebalanceMaxFraction)
	if chance == 0 || rand.Float64() >= chance {
		return
	}
	own := 0.0
	for _, e := range list {
		if e.Addr == self {
			own = e.Weight
		}
	}
	target := p2c(list, func(e sessionWeight) bool { return e.Addr != self && e.Weight > own }, rand.IntN)
	if target == "" {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
	err := wire.Call(ctx, l, &proto.Move{Reason: "rebalance", Sessions: []string{target}}, new(proto.Result))
	cancel()
	if err != nil {
		return // an older session, or a lost link: stay
	}
	c.log.Info("moving to a less loaded session", "from", self, "to", target)
	c.moving.Store(true)
	if !c.conn.Redirect(l, target) {
		c.moving.Store(false)
		return
	}
	c.rebalanced.Add(1)
}
