// Package certs makes and loads roster's TLS material: a development CA
// (like `consul tls ca create`), node certificates that name a node's role
// and address (netio.NodeURI), client certificates for a session's TLS
// client port, and cluster secrets; and a Loader that serves a certificate,
// its key and a CA from files and reloads them on SIGHUP and when the
// files change, so certificates rotate without a restart.
package certs
