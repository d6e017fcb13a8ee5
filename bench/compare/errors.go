package main

import "errors"

var (
	errNoEtcd      = errors.New("etcd not installed")
	errNoResult    = errors.New("loadgen wrote no result")
	errUnknownName = errors.New("unknown name")
)
