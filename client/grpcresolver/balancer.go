package grpcresolver

import (
	"cmp"
	"slices"
	"sync"

	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/balancer/base"
)

// BalancerName is the load-balancing policy the resolver selects, through
// the service config of its state, when a published instance has a weight
// (see Weight): a smooth weighted round robin over the ready servers, the
// one of nginx, which spreads each server's turns evenly instead of in
// bursts. A list without weights selects nothing, so the channel's own
// default service config (round_robin in the package's example) applies.
const BalancerName = "roster_weighted_round_robin"

// weightedConfig is the service config that selects the balancer.
const weightedConfig = `{"loadBalancingConfig":[{"` + BalancerName + `":{}}]}`

func init() {
	balancer.Register(base.NewBalancerBuilder(BalancerName, wrrBuilder{}, base.Config{}))
}

// wrrBuilder builds a picker each time the set of ready servers changes.
type wrrBuilder struct{}

func (wrrBuilder) Build(info base.PickerBuildInfo) balancer.Picker {
	if len(info.ReadySCs) == 0 {
		return base.NewErrPicker(balancer.ErrNoSubConnAvailable)
	}
	p := &wrrPicker{items: make([]wrrItem, 0, len(info.ReadySCs))}
	for sc, sci := range info.ReadySCs {
		w := Weight(sci.Address)
		p.items = append(p.items, wrrItem{sc: sc, addr: sci.Address.Addr, weight: w})
		p.total += w
	}
	// A fixed order: equal states pick in the same sequence.
	slices.SortFunc(p.items, func(a, b wrrItem) int { return cmp.Compare(a.addr, b.addr) })
	return p
}

type wrrItem struct {
	sc      balancer.SubConn
	addr    string
	weight  int
	current int
}

// wrrPicker is a smooth weighted round robin: every pick raises each
// server's current by its weight and takes the highest, which then drops
// by the total. Over total picks each server is picked weight times.
type wrrPicker struct {
	mu    sync.Mutex
	items []wrrItem
	total int
}

func (p *wrrPicker) Pick(balancer.PickInfo) (balancer.PickResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := 0
	for i := range p.items {
		p.items[i].current += p.items[i].weight
		if p.items[i].current > p.items[best].current {
			best = i
		}
	}
	p.items[best].current -= p.total
	return balancer.PickResult{SubConn: p.items[best].sc}, nil
}
