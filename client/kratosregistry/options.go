package kratosregistry

import "github.com/roster-registry/roster/client"

// Option tunes a Registry.
type Option func(*Registry)

// WithScope sets which publishers discovery sees (client.ScopeDataCenter, the
// SDK's default, when not given).
func WithScope(s client.Scope) Option { return func(r *Registry) { r.scope = s } }

// WithGroup sets the group of every dataInfoId (client.DefaultGroup when empty).
func WithGroup(g string) Option { return func(r *Registry) { r.group = g } }

// WithInstanceID sets the instance id of every dataInfoId
// (client.DefaultInstanceID when empty); it is roster's instance id, not a
// kratos ServiceInstance.ID.
func WithInstanceID(id string) Option { return func(r *Registry) { r.instanceID = id } }
