package grpcresolver

import (
	"net/url"

	"github.com/roster-registry/roster/client"
)

// Option tunes a Builder or a Register call; an option that does not apply
// to the call it is given to is ignored.
type Option func(*options)

type options struct {
	scope      client.Scope
	group      string
	instanceID string
	params     url.Values
	attrs      map[string]string
}

func newOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithScope sets which publishers a resolver sees (client.ScopeDataCenter,
// the SDK's default, when not given).
func WithScope(s client.Scope) Option { return func(o *options) { o.scope = s } }

// WithGroup sets the group of the dataInfoId (client.DefaultGroup when empty).
func WithGroup(g string) Option { return func(o *options) { o.group = g } }

// WithInstanceID sets the instance id of the dataInfoId
// (client.DefaultInstanceID when empty).
func WithInstanceID(id string) Option { return func(o *options) { o.instanceID = id } }

// WithParams adds query parameters to the address Register publishes
// (e.g. weight=100); resolvers hand them to the channel as attributes.
func WithParams(p url.Values) Option { return func(o *options) { o.params = p } }

// WithAttrs sets the attributes Register publishes with the address
// (client.Publication.Attrs): resolvers hand them to the channel (Metadata),
// and a client.WeightAttr attribute is the server's weight (Weight).
func WithAttrs(a map[string]string) Option { return func(o *options) { o.attrs = a } }
