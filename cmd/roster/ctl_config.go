package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/proto"
)

// config runs `roster ctl config get KEY | put KEY VALUE | put --file FILE
// KEY | delete KEY | list [PREFIX]` against the meta leader (the watched
// config: meta/watchhttp.go).
func (c *ctl) config(ctx context.Context, args []string) error {
	const usage = "ctl config: want get KEY, put KEY VALUE, --file FILE put KEY, delete KEY or list [PREFIX]"
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch {
	case args[0] == "list" && len(args) <= 2:
		prefix := ""
		if len(args) == 2 {
			prefix = args[1]
		}
		var l meta.ConfigListJSON
		if err := c.leaderGet(ctx, "/api/config/list?prefix="+url.QueryEscape(prefix), &l); err != nil {
			return err
		}
		if c.json {
			return c.printJSON(l)
		}
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tVERSION\tBYTES")
		for _, k := range l.Keys {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", k.Key, k.Version, k.Size)
		}
		return tw.Flush()
	case args[0] == "get" && len(args) == 2:
		var k meta.ConfigKeyJSON
		if err := c.leaderGet(ctx, "/api/config/get?key="+url.QueryEscape(args[1]), &k); err != nil {
			return err
		}
		if c.json {
			return c.printJSON(k)
		}
		if k.Value != nil {
			_, err := fmt.Fprintln(c.out, *k.Value)
			return err
		}
		return nil
	case args[0] == "put" && (c.valueFile == "" && len(args) == 3 || c.valueFile != "" && len(args) == 2):
		var value string
		if c.valueFile == "" {
			value = args[2]
		} else {
			b, err := readConfigFile(c.valueFile)
			if err != nil {
				return err
			}
			value = string(b)
		}
		return c.configWrite(ctx, "put", url.Values{"key": {args[1]}, "value": {value}})
	case args[0] == "delete" && len(args) == 2:
		return c.configWrite(ctx, "delete", url.Values{"key": {args[1]}})
	}
	return errors.New(usage)
}

// readConfigFile reads a value from path ("-": standard input), refusing
// one over proto.MaxConfigValue before sending it.
func readConfigFile(path string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("ctl config put: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, proto.MaxConfigValue+1))
	if err != nil {
		return nil, fmt.Errorf("ctl config put: cannot read %s: %w", path, err)
	}
	if len(b) > proto.MaxConfigValue {
		return nil, fmt.Errorf("ctl config put: %s holds more than %d bytes, the limit of a value", path, proto.MaxConfigValue)
	}
	return b, nil
}

func (c *ctl) configWrite(ctx context.Context, op string, form url.Values) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	var res meta.ConfigWriteJSON
	if err := c.postJSON(ctx, m+"/api/config/"+op, form, &res); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(res)
	}
	_, err = fmt.Fprintf(c.out, "%s %s: version %d\n", op, res.Key, res.Version)
	return err
}
