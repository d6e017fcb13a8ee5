package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
)

const ctlHelp = `Operates a running cluster over its HTTP admin API (docs/http-api.md).

Commands:
  status                    meta nodes, slot table health, slot balance per data node, sessions
  slots [--unsynced]        the slot table with each follower's sync status (--unsynced: only
                            slots without a leader, with an unsynced follower or under-replicated)
  services [PREFIX]         every service (dataInfoId) with its publisher and subscriber counts
  subs DATAINFOID           the subscribers of a dataInfoId on every session
  watch DATAID              subscribe through a session and print every push as it arrives
                            (until interrupted, or --count pushes)
  datum DATAINFOID          the publishers of a dataInfoId, from its slot's leader data node
  conns                     client connections per session and per client IP
  ip IP                     what the clients of an IP publish and subscribe to, per session
  clients                   the client-off IP list
  client-off IP...          cut the clients of these IPs off (their publishers are removed)
  client-open IP...         let the clients of these IPs back
  push stop|resume|status   the global push switch
  blacklist list            the blacklisted client IPs and prefixes, and dataInfoId patterns
  blacklist add|remove ip|publish|subscribe ENTRY...
                            ip: client IPs or CIDR prefixes refused at handshake (connected
                            clients of them are cut off); publish, subscribe: patterns ("*",
                            "?"; matched against the dataId, or the whole dataInfoId when they
                            hold #@#) refused for publish or subscribe. Applied by every
                            session within a second
  drain NODE...             drain nodes (RPC or HTTP address, or id) and wait until drained (at most
                            --timeout), printing progress: a data node's slots move elsewhere, a
                            session's clients move to other sessions; the node stays up, drained,
                            until undrain or a restart. Draining every data node (or session) is
                            refused without --force
  undrain NODE...           let drained nodes take work again
  app NAME                  the revisions of an application stored in meta (app-level discovery)
                            and the interfaces each serves
  iface INTERFACE           the applications serving an interface (a dataId or dataInfoId)
  switches                  the session settings operators may change live, with the values set
  switches set NAME VALUE   override the sessions' flag NAME (push-debounce, push-compress-above,
                            version-scan, the client limits...) on every session within a second
  switches unset NAME       back to each session's flag
  config list [PREFIX]      the watched config's keys, with their versions and sizes
  config get KEY            a key's value
  config put KEY VALUE      set a key (VALUE, or with --file FILE and no VALUE, the file's content;
                            at most 64 KiB of UTF-8); every watcher (client.Watch) is pushed it
  config delete KEY         remove a key; its watchers are told it is gone
  acl list                  the client credentials (never their tokens) and whether they are enforced
  acl create NAME --app APP [--publish P,...] [--subscribe P,...]
                            a credential of application APP that may publish and subscribe to the
                            dataIds matching the patterns ("*" any run of characters, "?" one); prints
                            its token, this once (client.Config.Token)
  acl update NAME [--app APP] [--publish P,...] [--subscribe P,...]
                            replace what is given (--publish= clears the list); the token stays
  acl rotate NAME           a new token for the credential; the old one stops working
  acl delete NAME           remove the credential; its clients' next operations are refused
  acl enforce on|off        on: every client must present a credential's token (off: clients
                            without one are let in, those with one are held to it)
  dc list                   this cluster's data center and the remote ones it links to
  dc add NAME --meta HOST:PORT,... [--sync=false] [--push-remote=false] [--allow P,...] [--deny P,...]
                            link (or relink) remote data center NAME, reached at its meta nodes' RPC
                            addresses: its publishers are imported (unless --sync=false), filtered by
                            the patterns (as the blacklist's), and pushed to global subscribers
                            (unless --push-remote=false). ctl's own flags go before "dc": there
                            --meta is the remote data center's
  dc remove NAME            unlink a remote data center; what was imported from it is dropped
  dc status                 per remote data center: link state, slots importing, lag, publishers
                            imported and last repair, over every data node, then per node

The meta leader is found among --meta (a follower names it). Every request carries the
admin token (--admin-token, --admin-token-file, $ROSTER_CTL_TOKEN or $ROSTER_ADMIN_TOKEN) as
a bearer token and the X-Roster-Admin header; a node started without an admin token takes
admin requests from its own machine only. Every flag may also be set as ROSTER_CTL_<FLAG>
(ROSTER_CTL_META). A bare DATAID stands for DATAID#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP.`

// ctlEnvPrefix prefixes the environment variables of ctl's flags
// (ROSTER_CTL_META): ctl's --meta takes HTTP addresses, a server's RPC ones,
// and both may run with the same environment (inside a pod).
const ctlEnvPrefix = "ROSTER_CTL_"

// ctlTimeout bounds every request ctl makes.
const ctlTimeout = 10 * time.Second

// drainTimeoutDefault bounds `ctl drain` when --timeout is not given: a
// data node holding many slots moves them in rounds.
const drainTimeoutDefault = 10 * time.Minute

// ctl is one run of `roster ctl`.
type ctl struct {
	metas       []string // meta HTTP base URLs
	token       string
	json        bool
	out         io.Writer
	errOut      io.Writer // progress and warnings, apart from what --json prints
	client      *http.Client
	timeout     time.Duration
	force       bool
	unsynced    bool
	count       int    // watch: pushes to print before exiting; 0: until interrupted
	clientToken string // watch: the sessions' --client-token
	valueFile   string // config put: read the value from this file
	// aclFlags are the flags of `acl create|update`.
	aclFlags *aclFlags
}

func runCtl(args []string, out io.Writer) error { return runCtlTo(args, out, os.Stderr) }

// runCtlTo is runCtl printing progress and warnings to errOut.
func runCtlTo(args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("ctl", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: roster ctl [flags] COMMAND [ARGS]\n\n%s\n\nFlags:\n", ctlHelp)
		fs.PrintDefaults()
	}
	var metas, tokenFile string
	c := &ctl{out: out, errOut: errOut, client: &http.Client{Timeout: ctlTimeout}}
	fs.StringVar(&metas, "meta", "http://127.0.0.1:9615", "comma-separated meta HTTP addresses; the leader among them answers, or the one a follower names")
	fs.StringVar(&c.token, opshttp.FlagAdminToken, "", "admin bearer token ($ROSTER_CTL_TOKEN, else $ROSTER_ADMIN_TOKEN)")
	fs.StringVar(&c.token, "token", "", "the same as --"+opshttp.FlagAdminToken)
	fs.StringVar(&tokenFile, opshttp.FlagAdminTokenFile, "", "file holding the admin token; replaces --"+opshttp.FlagAdminToken)
	fs.BoolVar(&c.json, "json", false, "print JSON instead of tables, for scripts")
	fs.DurationVar(&c.timeout, "timeout", 0, "give up after this long; default 10m for drain, none for watch, 30s otherwise")
	fs.BoolVar(&c.force, "force", false, "drain: drain even the last data node or session that is not draining")
	fs.BoolVar(&c.unsynced, "unsynced", false, "slots: only slots without a leader, with an unsynced follower or under-replicated")
	fs.IntVar(&c.count, "count", 0, "watch: exit after printing this many pushes; 0: until interrupted")
	fs.StringVar(&c.valueFile, "file", "", `config put: read the value from this file ("-": standard input)`)
	fs.StringVar(&c.clientToken, "client-token", "", "watch: the token sessions require of clients (their --client-token)")
	var af aclFlags
	fs.StringVar(&af.app, "app", "", "acl create|update: the application the credential is bound to")
	fs.StringVar(&af.publish, "publish", "", "acl create|update: comma-separated dataId patterns the credential may publish to")
	fs.StringVar(&af.subscribe, "subscribe", "", "acl create|update: comma-separated dataId patterns the credential may subscribe to")
	// Flags may follow the command too (roster ctl status --json), but
	// for dc: its flags are its own (ctl_dc.go).
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
		if len(pos) == 1 && pos[0] == "dc" {
			pos = append(pos, args...)
			break
		}
	}
	if err := applySources(fs, ctlEnvPrefix); err != nil {
		return err
	}
	if tokenFile != "" {
		t, err := opshttp.ReadTokenFile(tokenFile)
		if err != nil {
			return err
		}
		c.token = t
	}
	if c.token == "" {
		c.token = os.Getenv("ROSTER_ADMIN_TOKEN")
	}
	for _, m := range splitList(metas) {
		c.metas = append(c.metas, baseURL(m))
	}
	if len(c.metas) == 0 {
		return errors.New("ctl: --meta is empty")
	}
	if len(pos) == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	af.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { af.set[f.Name] = true })
	c.aclFlags = &af
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	timeout := c.timeout
	if timeout == 0 {
		switch pos[0] {
		case "drain":
			timeout = drainTimeoutDefault
		case "watch":
		default:
			timeout = 3 * ctlTimeout
		}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return c.run(ctx, pos[0], pos[1:])
}

func (c *ctl) run(ctx context.Context, cmd string, args []string) error {
	need := func(n int, what string) error {
		if len(args) < n {
			return fmt.Errorf("ctl %s: missing %s", cmd, what)
		}
		return nil
	}
	switch cmd {
	case "status":
		return c.status(ctx)
	case "slots":
		return c.slots(ctx)
	case "services":
		prefix := ""
		if len(args) > 0 {
			prefix = args[0]
		}
		return c.services(ctx, prefix)
	case "subs":
		if err := need(1, "DATAINFOID"); err != nil {
			return err
		}
		return c.subs(ctx, args[0])
	case "watch":
		if err := need(1, "DATAID"); err != nil {
			return err
		}
		return c.watch(ctx, args[0])
	case "datum":
		if err := need(1, "DATAINFOID"); err != nil {
			return err
		}
		return c.datum(ctx, args[0])
	case "conns":
		return c.conns(ctx)
	case "ip":
		if err := need(1, "IP"); err != nil {
			return err
		}
		return c.ip(ctx, args[0])
	case "clients":
		return c.clients(ctx)
	case "client-off", "client-off-with-sub", "client-open":
		if err := need(1, "IP"); err != nil {
			return err
		}
		path := map[string]string{"client-off": "clientOff", "client-off-with-sub": "clientOffWithSub", "client-open": "clientOpen"}[cmd]
		return c.metaCall(ctx, http.MethodPost, "/api/clientManager/"+path, url.Values{"ips": {strings.Join(args, ",")}}, "")
	case "zone-off", "zone-open":
		if err := need(1, "ZONE"); err != nil {
			return err
		}
		path := "/api/clientManager/zone/clientOff"
		if cmd == "zone-open" {
			path = "/api/clientManager/zone/clientOpen"
		}
		return c.metaCall(ctx, http.MethodPost, path, url.Values{"zones": {strings.Join(args, ",")}}, "")
	case "drain", "undrain":
		if err := need(1, "NODE"); err != nil {
			return err
		}
		return c.drain(ctx, args, cmd == "undrain")
	case "blacklist":
		return c.blacklist(ctx, args)
	case "switches":
		return c.switches(ctx, args)
	case "config":
		return c.config(ctx, args)
	case "app":
		if err := need(1, "APP"); err != nil {
			return err
		}
		return c.app(ctx, args[0])
	case "iface":
		if err := need(1, "INTERFACE"); err != nil {
			return err
		}
		return c.iface(ctx, args[0])
	case "acl":
		f := c.aclFlags
		if f == nil {
			f = &aclFlags{}
		}
		return c.acl(ctx, args, f)
	case "push":
		return c.push(ctx, args)
	case "dc":
		return c.dc(ctx, args)
	}
	return fmt.Errorf("ctl: unknown command %q (see roster ctl --help)", cmd)
}

// baseURL accepts host:port or a URL and returns a URL without a trailing slash.
func baseURL(s string) string {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	return strings.TrimRight(s, "/")
}

// call sends one request and returns the body of a 2xx answer; any other
// answer is an error carrying the server's {"error"} message.
func (c *ctl) call(ctx context.Context, method, u string, form url.Values) ([]byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("cannot build request for %s: %w", u, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	opshttp.SetAdminHeaders(req, c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("cannot read the answer of %s: %w", u, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode == http.StatusUnauthorized {
			msg += " (pass --" + opshttp.FlagAdminToken + ")"
		}
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, msg)
	}
	return b, nil
}

// get fetches u and decodes its JSON into v.
func (c *ctl) get(ctx context.Context, u string, v any) error {
	b, err := c.call(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cannot decode the answer of %s: %w", u, err)
	}
	return nil
}

// postJSON posts form to u and decodes the JSON answer into v.
func (c *ctl) postJSON(ctx context.Context, u string, form url.Values, v any) error {
	b, err := c.call(ctx, http.MethodPost, u, form)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cannot decode the answer of %s: %w", u, err)
	}
	return nil
}

// leaderGet fetches path from the meta leader and decodes its JSON into v.
func (c *ctl) leaderGet(ctx context.Context, path string, v any) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	return c.get(ctx, m+path, v)
}

// printJSONLine writes v on one line (a stream of events).
func (c *ctl) printJSONLine(v any) error {
	if err := json.NewEncoder(c.out).Encode(v); err != nil {
		return fmt.Errorf("cannot write JSON: %w", err)
	}
	return nil
}

// printJSON writes v indented.
func (c *ctl) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cannot write JSON: %w", err)
	}
	return nil
}
