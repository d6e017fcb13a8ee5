//go:build !unix

package netio

import "github.com/panjf2000/gnet/v2"

func boundAddr(gnet.Engine) (string, bool) { return "", false }
