package slotstore

import "unsafe"

// unsafeBytes views s as bytes for functions that only read them.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
