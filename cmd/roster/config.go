package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Every flag of a server command can also come from an environment variable
// (ROSTER_ plus the flag's name in upper case with dashes as underscores:
// --data-addr is ROSTER_DATA_ADDR) or from a YAML config file (--config or
// $ROSTER_CONFIG; the flag's name is the key). The command line wins over
// the environment, which wins over the file, which wins over the default:
// a file can be shared by every node while the environment (a pod's spec)
// and the command line override it per node. parseFlags walks the FlagSet,
// so a flag added to any command gets all three for free.

// envPrefix prefixes the environment variable of every server flag.
const envPrefix = "ROSTER_"

// maxConfigBytes bounds a config file: it is read whole.
const maxConfigBytes = 1 << 20

// secretFlags are the flags whose value may instead be read from a file
// named by --<flag>-file, so it shows neither in the process list nor in
// the environment of the process.
var secretFlags = []string{"admin-token", "client-token", "store"}

// envName is the environment variable of a flag.
func envName(prefix, flagName string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// registerConfig adds --config and a --<flag>-file for every secret flag fs
// has. Call it after the command registered its own flags.
func registerConfig(fs *flag.FlagSet) {
	fs.String("config", "", "YAML file whose keys are the names of this command's flags (\"data-addr: :9620\"; a list "+
		"value is joined with commas); the environment (ROSTER_DATA_ADDR) wins over the file, the command line over both")
	for _, name := range secretFlags {
		// A command may define its own --<flag>-file: it then reads it itself.
		if fs.Lookup(name) != nil && fs.Lookup(name+"-file") == nil {
			fs.Var(new(secretFile), name+"-file", "read --"+name+" from this file (its first line), so the secret shows in no process list or environment")
		}
	}
}

// secretFile is the value of a --<flag>-file that registerConfig added.
type secretFile struct{ path string }

func (f *secretFile) String() string {
	if f == nil {
		return ""
	}
	return f.path
}

func (f *secretFile) Set(s string) error { f.path = s; return nil }

// parseFlags parses args and then, for every flag not given on the command
// line, applies its environment variable or else its config file key. An
// unknown key, a value a flag rejects or an unreadable file is an error
// naming the key or variable.
func parseFlags(fs *flag.FlagSet, args []string, prefix string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return applySources(fs, prefix)
}

// applySources applies the environment, then the config file, to every flag
// of fs not set on the command line (fs is parsed), then reads secret files.
func applySources(fs *flag.FlagSet, prefix string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	apply := func(name, value, source string) {
		if err := fs.Set(name, value); err != nil {
			errs = append(errs, fmt.Errorf("cannot apply %s: %w", source, err))
		}
		set[name] = true
	}
	// The environment first: it may name the config file.
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		env := envName(prefix, f.Name)
		if v, ok := os.LookupEnv(env); ok {
			apply(f.Name, v, "$"+env)
		}
	})
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		values, err := readConfig(cf.Value.String(), fs)
		if err != nil {
			errs = append(errs, err)
		}
		for _, k := range sortedKeys(values) {
			if !set[k] {
				apply(k, values[k], fmt.Sprintf("%q of %s", k, cf.Value.String()))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return readSecretFiles(fs)
}

// readConfig reads a YAML mapping of flag names to scalars or lists of
// scalars, and returns each as the string the flag would get on the command line.
func readConfig(path string, fs *flag.FlagSet) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read config file %s: %w", path, err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("cannot read config file %s: larger than %d bytes", path, maxConfigBytes)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("cannot parse config file %s: %w", path, err)
	}
	out := make(map[string]string, len(doc))
	var errs []error
	for k, n := range doc {
		switch {
		case k == "config":
			errs = append(errs, fmt.Errorf("config file %s: key %q cannot name another file", path, k))
			continue
		case fs.Lookup(k) == nil:
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q: not a flag of roster %s (see --help)", path, k, fs.Name()))
			continue
		}
		v, err := scalarOrList(&n)
		if err != nil {
			errs = append(errs, fmt.Errorf("config file %s: key %q: %w", path, k, err))
			continue
		}
		out[k] = v
	}
	return out, errors.Join(errs...)
}

// scalarOrList renders a YAML value as a flag value: a scalar as written, a
// list of scalars joined with commas.
func scalarOrList(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "", errors.New("no value (write \"\" for an empty one)")
		}
		return n.Value, nil
	case yaml.SequenceNode:
		parts := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return "", errors.New("a list may hold scalars only")
			}
			parts = append(parts, c.Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", errors.New("want a scalar or a list of scalars")
}

// readSecretFiles sets each secret flag from its --<flag>-file, if given.
func readSecretFiles(fs *flag.FlagSet) error {
	for _, name := range secretFlags {
		ff := fs.Lookup(name + "-file")
		if ff == nil || ff.Value.String() == "" {
			continue
		}
		if _, ours := ff.Value.(*secretFile); !ours {
			continue
		}
		if fs.Lookup(name).Value.String() != "" {
			return fmt.Errorf("cannot use both --%s and --%s-file", name, name)
		}
		v, err := readSecret(ff.Value.String())
		if err != nil {
			return fmt.Errorf("cannot read --%s-file: %w", name, err)
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("cannot set --%s from its file: %w", name, err)
		}
	}
	return nil
}

// readSecret returns the first line of a file (a Kubernetes secret or a
// systemd credential usually ends with a newline, which is not part of it).
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return line, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
