package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/roster-registry/roster/meta"
)

// aclFlags are the fields of `ctl acl create|update`; set records which
// were given, so that update replaces those only.
type aclFlags struct {
	app, publish, subscribe string
	set                     map[string]bool
}

// acl runs `roster ctl acl ACTION ...` against the meta leader.
func (c *ctl) acl(ctx context.Context, args []string, f *aclFlags) error {
	if len(args) == 0 {
		return errors.New("ctl acl: missing action (list, create, update, rotate, delete or enforce)")
	}
	action, args := args[0], args[1:]
	name := func() (url.Values, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("ctl acl %s: want one credential NAME", action)
		}
		return url.Values{"name": {args[0]}}, nil
	}
	switch action {
	case "list":
		return c.aclList(ctx)
	case "create", "update":
		form, err := name()
		if err != nil {
			return err
		}
		for field, v := range map[string]string{"app": f.app, "publish": f.publish, "subscribe": f.subscribe} {
			if action == "create" || f.set[field] {
				form.Set(field, v)
			}
		}
		if action == "create" && f.app == "" {
			return errors.New("ctl acl create: --app is required: the application the credential is bound to")
		}
		return c.aclChange(ctx, "/api/acl/"+action, form)
	case "rotate", "delete":
		form, err := name()
		if err != nil {
			return err
		}
		return c.aclChange(ctx, "/api/acl/"+action, form)
	case "enforce":
		if len(args) != 1 || args[0] != "on" && args[0] != "off" {
			return errors.New("ctl acl enforce: want on or off")
		}
		return c.metaCall(ctx, http.MethodPost, "/api/acl/enforce", url.Values{"on": {fmt.Sprint(args[0] == "on")}}, "")
	}
	return fmt.Errorf("ctl acl: unknown action %q (list, create, update, rotate, delete or enforce)", action)
}

// aclChange sends a credential change and prints the credential, and its
// token when the answer carries one (create, rotate): shown this once.
func (c *ctl) aclChange(ctx context.Context, path string, form url.Values) error {
	var res meta.ACLChangeJSON
	if err := c.postLeader(ctx, path, form, &res); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(res)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	printCredentials(tw, []meta.CredentialJSON{res.Credential})
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Token == "" {
		return nil
	}
	_, err := fmt.Fprintf(c.out, "\ntoken: %s\n(shown only now: give it to the application as client.Config.Token)\n", res.Token)
	return err
}

func (c *ctl) aclList(ctx context.Context) error {
	var q meta.ACLJSON
	if err := c.leaderGet(ctx, "/api/acl/query", &q); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(q)
	}
	enforced := "off: clients without a credential are let in"
	if q.Enforce {
		enforced = "on: every client must present a credential"
	}
	fmt.Fprintf(c.out, "enforcement %s\n\n", enforced)
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	printCredentials(tw, q.Credentials)
	return tw.Flush()
}

func printCredentials(tw *tabwriter.Writer, creds []meta.CredentialJSON) {
	fmt.Fprintln(tw, "NAME\tAPP\tPUBLISH\tSUBSCRIBE")
	list := func(s []string) string {
		if len(s) == 0 {
			return "-"
		}
		return strings.Join(s, ",")
	}
	for _, cr := range creds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cr.Name, cr.App, list(cr.Publish), list(cr.Subscribe))
	}
}

// postLeader posts form to path at the meta leader and decodes its JSON
// answer into v: the admin writes whose answer ctl prints.
func (c *ctl) postLeader(ctx context.Context, path string, form url.Values, v any) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	b, err := c.call(ctx, http.MethodPost, m+path, form)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cannot decode the answer of %s: %w", path, err)
	}
	return nil
}
