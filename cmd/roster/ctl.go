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
	"strings"
	"time"
)

const ctlHelp = `Operates a running cluster over its HTTP admin API (docs/http-api.md).

Commands:
  status                    meta leader, nodes, and slot balance per data node
  slots                     the slot table with each follower's sync status
  datum DATAINFOID          the publishers of a dataInfoId, from its slot's leader data node
  conns                     client connections per session and per client IP
  ip IP                     what the clients of an IP publish and subscribe to, per session
  clients                   the client-off IP list
  client-off IP...          cut the clients of these IPs off (their publishers are removed)
  client-open IP...         let the clients of these IPs back
  push stop|resume|status   the global push switch
  drain NODE...             drain nodes (RPC or HTTP address, or id) and wait until drained: a data
                            node's slots move elsewhere, a session's clients move to other sessions;
                            the node stays up, drained, until undrain or a restart
  undrain NODE...           let drained nodes take work again

The meta leader is found among --meta; admin commands send --token as a bearer
token (a node started without --admin-token takes admin requests from 127.0.0.1 only).`

// ctlEnvPrefix prefixes the environment variables of ctl's flags
// (ROSTER_CTL_META): ctl's --meta takes HTTP addresses, a server's RPC ones,
// and both may run with the same environment (inside a pod).
const ctlEnvPrefix = "ROSTER_CTL_"

// ctlTimeout bounds every request ctl makes.
const ctlTimeout = 10 * time.Second

// ctl is one run of `roster ctl`.
type ctl struct {
	metas  []string // meta HTTP base URLs
	token  string
	json   bool
	out    io.Writer
	client *http.Client
}

func runCtl(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ctl", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: roster ctl [flags] COMMAND [ARGS]\n\n%s\n\nFlags:\n", ctlHelp)
		fs.PrintDefaults()
	}
	var metas string
	c := &ctl{out: out, client: &http.Client{Timeout: ctlTimeout}}
	fs.StringVar(&metas, "meta", "http://127.0.0.1:9615", "comma-separated meta HTTP addresses; the leader among them answers")
	fs.StringVar(&c.token, "token", "", "admin bearer token ($ROSTER_CTL_TOKEN, else $ROSTER_ADMIN_TOKEN)")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of tables, for scripts")
	// Flags may follow the command too (roster ctl status --json).
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
	}
	if err := applySources(fs, ctlEnvPrefix); err != nil {
		return err
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*ctlTimeout)
	defer cancel()
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
		return c.metaCall(ctx, http.MethodGet, "/api/clientManager/query", nil, "clientOff")
	case "client-off", "client-open":
		if err := need(1, "IP"); err != nil {
			return err
		}
		path := "/api/clientManager/clientOff"
		if cmd == "client-open" {
			path = "/api/clientManager/clientOpen"
		}
		return c.metaCall(ctx, http.MethodPost, path, url.Values{"ips": {strings.Join(args, ",")}}, "")
	case "drain", "undrain":
		if err := need(1, "NODE"); err != nil {
			return err
		}
		return c.drain(ctx, args, cmd == "undrain")
	case "push":
		if err := need(1, "stop, resume or status"); err != nil {
			return err
		}
		switch args[0] {
		case "stop", "resume":
			return c.metaCall(ctx, http.MethodPost, "/api/push/"+args[0], url.Values{}, "")
		case "status":
			return c.metaCall(ctx, http.MethodGet, "/api/push/status", nil, "")
		}
		return fmt.Errorf("ctl push: unknown action %q (stop, resume or status)", args[0])
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
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
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
			msg += " (pass --token)"
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

// printJSON writes v indented.
func (c *ctl) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cannot write JSON: %w", err)
	}
	return nil
}
