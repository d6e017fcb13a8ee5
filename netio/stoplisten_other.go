//go:build !linux

package netio

import "github.com/panjf2000/gnet/v2"

// Shutting a listening socket down to stop accepting is Linux's behaviour
// (see stoplisten_linux.go); elsewhere the engine is stopped as gnet does it.

func dupListener(gnet.Engine) int { return -1 }
func shutListener(int) bool       { return false }
func closeListenerDup(int)        {}
