package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

const certUsage = `roster cert — certificates and secrets for a roster cluster

Usage:
  roster cert ca --dir DIR                                  a CA: DIR/ca.crt, DIR/ca.key (0600)
  roster cert node --role ROLE --addr HOST:PORT --ca-dir DIR --out PREFIX
                                                            a node certificate: PREFIX.crt, PREFIX.key (0600)
  roster cert client --name NAME --ca-dir DIR --out PREFIX  a client certificate for a TLS client port
  roster cert secret --out FILE                             a cluster secret (0600)

Keys are ECDSA P-256. A node certificate names the node's role and the address it
advertises (roster://data/10.0.0.1:9620 as a URI SAN, 10.0.0.1 as an IP SAN);
nodes accept a peer only for what its certificate names. Run
"roster cert <command> --help" for the flags of a command.
`

func runCert(args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, certUsage)
		return flag.ErrHelp
	}
	switch cmd, args := args[0], args[1:]; cmd {
	case "ca":
		return certCA(args, out)
	case "node":
		return certNode(args, out)
	case "client":
		return certClient(args, out)
	case "secret":
		return certSecret(args, out)
	case "help", "--help", "-h":
		fmt.Fprint(out, certUsage)
		return nil
	default:
		return fmt.Errorf("unknown cert command %q\n\n%s", cmd, certUsage)
	}
}

func certCA(args []string, out io.Writer) error {
	fs := newFlagSet("cert ca", "Makes a certificate authority for the cluster: DIR/ca.crt (give it to every node as --tls-ca)\n"+
		"and DIR/ca.key (keep it off the nodes; it signs their certificates).")
	dir := fs.String("dir", "", "directory to write ca.crt and ca.key to (required; existing files are not overwritten)")
	name := fs.String("name", "roster cluster CA", "the CA's common name")
	days := fs.Int("days", int(certs.DefaultCAValidity/(24*time.Hour)), "validity in days")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("--dir is required")
	}
	ca, err := certs.NewCA(*name, days2d(*days))
	if err != nil {
		return err
	}
	if err := ca.Write(*dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s and %s (valid until %s)\n", filepath.Join(*dir, certs.CACertFile), filepath.Join(*dir, certs.CAKeyFile),
		ca.Cert.NotAfter.Format(time.DateOnly))
	return nil
}

func certNode(args []string, out io.Writer) error {
	fs := newFlagSet("cert node", "Makes a node certificate signed by the CA in --ca-dir: give PREFIX.crt and PREFIX.key to the node\n"+
		"as --tls-cert and --tls-key. --addr must be the address the node advertises: its RPC address\n"+
		"(a session's client address), as other nodes dial it and meta names it.")
	role := fs.String("role", "", "the node's role: meta, data or session; an integrated node's certificate names all three (meta,data,session)")
	addrs := fs.String("addr", "", "comma-separated host:port the certificate names (an integrated node: its meta, data and session addresses)")
	caDir := fs.String("ca-dir", "", "directory of the CA ('roster cert ca')")
	prefix := fs.String("out", "", "path prefix of the files to write: PREFIX.crt and PREFIX.key")
	days := fs.Int("days", int(certs.DefaultCertValidity/(24*time.Hour)), "validity in days")
	force := fs.Bool("force", false, "replace existing files (the node reloads them without a restart)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var roles []proto.Role
	for _, r := range splitList(*role) {
		pr, err := netio.ParseRole(r)
		if err != nil {
			return fmt.Errorf("invalid --role: %w", err)
		}
		roles = append(roles, pr)
	}
	if len(roles) == 0 || *addrs == "" || *caDir == "" || *prefix == "" {
		return errors.New("--role, --addr, --ca-dir and --out are required")
	}
	ca, err := certs.LoadCA(*caDir)
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.NodesCert(roles, splitList(*addrs), days2d(*days))
	if err != nil {
		return err
	}
	if err := certs.WritePair(*prefix, certPEM, keyPEM, *force); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s.crt and %s.key for %s at %s\n", *prefix, *prefix, *role, *addrs)
	return nil
}

func certClient(args []string, out io.Writer) error {
	fs := newFlagSet("cert client", "Makes a client certificate signed by the CA in --ca-dir, for SDK clients of a session started\n"+
		"with --client-tls-ca (client.Config.TLS.Certificates).")
	name := fs.String("name", "", "the client's name (common name), e.g. the application")
	caDir := fs.String("ca-dir", "", "directory of the CA")
	prefix := fs.String("out", "", "path prefix of the files to write: PREFIX.crt and PREFIX.key")
	days := fs.Int("days", int(certs.DefaultCertValidity/(24*time.Hour)), "validity in days")
	force := fs.Bool("force", false, "replace existing files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *caDir == "" || *prefix == "" {
		return errors.New("--name, --ca-dir and --out are required")
	}
	ca, err := certs.LoadCA(*caDir)
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.ClientCert(*name, days2d(*days))
	if err != nil {
		return err
	}
	if err := certs.WritePair(*prefix, certPEM, keyPEM, *force); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s.crt and %s.key for client %s\n", *prefix, *prefix, *name)
	return nil
}

func certSecret(args []string, out io.Writer) error {
	fs := newFlagSet("cert secret", "Writes a new cluster secret (32 random bytes, hex) to a file readable by its owner only:\n"+
		"give the same file to every node as --cluster-secret-file.")
	path := fs.String("out", "", "the file to write (not overwritten if it exists)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("--out is required")
	}
	if err := certs.WriteSecret(*path); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote a cluster secret to %s\n", *path)
	return nil
}

func days2d(days int) time.Duration { return time.Duration(days) * 24 * time.Hour }
