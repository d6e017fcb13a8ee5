package client

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// App is an application instance published once for all the interfaces it
// serves (app-level discovery, as in Dubbo 3): subscribers of any of those
// interfaces receive Address with the interface's Params as a query, the
// same entry an interface-level Publish of "Address?params" gives them.
type App struct {
	Name     string // application name, required
	Address  string // e.g. "10.0.0.1:12200", required
	Services []AppService
}

// AppService is one interface an application serves.
type AppService struct {
	Interface  string // the data id subscribers subscribe to
	Group      string // DefaultGroup when empty
	InstanceID string // DefaultInstanceID when empty
	Params     map[string]string
}

// AppPublisher is one live application instance.
type AppPublisher struct {
	pub      *Publisher
	revision string
}

// PublishApp publishes an application instance. The interfaces and their
// params form a metadata record, its revision a hash of it, registered
// first (once per revision, idempotent) so that every session can resolve
// the instance; then the instance itself is published as one record. It
// retries until ctx is done, like Publish, and is replayed after reconnects.
func (c *Client) PublishApp(ctx context.Context, a App) (*AppPublisher, error) {
	rev, err := appRevision(a)
	if err != nil {
		return nil, fmt.Errorf("cannot publish app %s: %w", a.Name, err)
	}
	if err := c.call(ctx, rev); err != nil {
		return nil, fmt.Errorf("cannot register revision of app %s: %w", a.Name, err)
	}
	pub, err := c.Publish(ctx, Publication{
		DataID: a.Name,
		Group:  proto.AppGroup,
		Data:   []string{a.Address},
		Attrs:  map[string]string{proto.AppRevisionAttr: rev.Revision},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot publish app %s: %w", a.Name, err)
	}
	return &AppPublisher{pub: pub, revision: rev.Revision}, nil
}

// Unpublish removes the instance from every interface it serves.
func (p *AppPublisher) Unpublish(ctx context.Context) error { return p.pub.Unpublish(ctx) }

// Revision returns the revision of the instance's metadata record.
func (p *AppPublisher) Revision() string { return p.revision }

// DataInfoID returns the key the instance is registered under.
func (p *AppPublisher) DataInfoID() string { return p.pub.DataInfoID() }

// appRevision builds the canonical metadata record of a: interfaces by
// dataInfoId, sorted, params sorted by key, so equal instances share it.
func appRevision(a App) (*proto.AppRevision, error) {
	if strings.TrimSpace(a.Name) == "" || strings.Contains(a.Name, dataInfoSep) {
		return nil, fmt.Errorf("%w: app name %q", ErrInvalidDataID, a.Name)
	}
	if a.Address == "" {
		return nil, fmt.Errorf("%w: empty address", ErrInvalidApp)
	}
	if len(a.Services) == 0 {
		return nil, fmt.Errorf("%w: no services", ErrInvalidApp)
	}
	svcs := make([]proto.AppService, 0, len(a.Services))
	for _, s := range a.Services {
		if s.Group == proto.AppGroup {
			return nil, fmt.Errorf("%w: group %s is reserved", ErrInvalidApp, proto.AppGroup)
		}
		id, err := DataInfoID(s.Interface, s.InstanceID, s.Group)
		if err != nil {
			return nil, err
		}
		params := sortedAttrs(s.Params)
		if params == nil {
			params = []proto.Attr{}
		}
		svcs = append(svcs, proto.AppService{Interface: id, Params: params})
	}
	slices.SortFunc(svcs, func(x, y proto.AppService) int { return strings.Compare(x.Interface, y.Interface) })
	for i := 1; i < len(svcs); i++ {
		if svcs[i].Interface == svcs[i-1].Interface {
			return nil, fmt.Errorf("%w: interface %s listed twice", ErrInvalidApp, svcs[i].Interface)
		}
	}
	r := &proto.AppRevision{Revision: proto.AppRevisionOf(a.Name, svcs), App: a.Name, Services: svcs}
	if err := r.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidApp, err)
	}
	return r, nil
}
