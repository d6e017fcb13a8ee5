//go:build !linux

package netio

import "github.com/panjf2000/gnet/v2"

// shutListener reports false: shutting a listening socket down to stop
// accepting is Linux's behaviour (see stoplisten_linux.go); elsewhere the
// engine is stopped as gnet does it.
func shutListener(gnet.Engine) bool { return false }
