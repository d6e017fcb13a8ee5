package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testFlagSet is a server command's flag set in miniature.
func testFlagSet() (*flag.FlagSet, *string, *time.Duration, *string, *string) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("data-addr", ":9620", "")
	lease := fs.Duration("node-lease", 5*time.Second, "")
	metas := fs.String("meta", "127.0.0.1:9610", "")
	token := fs.String("admin-token", "", "")
	registerConfig(fs)
	return fs, addr, lease, metas, token
}

// TestConfigPrecedence: command line > environment > file > default.
func TestConfigPrecedence(t *testing.T) {
	cfg := writeFile(t, "roster.yaml", "data-addr: \":1111\"\nnode-lease: 7s\nmeta: [m1:9610, m2:9610]\n")
	f := func(args []string, env map[string]string, wantAddr string, wantLease time.Duration, wantMetas string) {
		t.Helper()
		t.Run("", func(t *testing.T) { // restores the environment after
			for k, v := range env {
				t.Setenv(k, v)
			}
			fs, addr, lease, metas, _ := testFlagSet()
			if err := parseFlags(fs, args, envPrefix); err != nil {
				t.Fatalf("parse %v: %v", args, err)
			}
			if *addr != wantAddr || *lease != wantLease || *metas != wantMetas {
				t.Fatalf("args %v env %v: got %q %v %q, want %q %v %q", args, env, *addr, *lease, *metas, wantAddr, wantLease, wantMetas)
			}
		})
	}
	f(nil, nil, ":9620", 5*time.Second, "127.0.0.1:9610")
	f([]string{"--config", cfg}, nil, ":1111", 7*time.Second, "m1:9610,m2:9610")
	f([]string{"--config", cfg}, map[string]string{"ROSTER_DATA_ADDR": ":2222"}, ":2222", 7*time.Second, "m1:9610,m2:9610")
	f([]string{"--config", cfg, "--data-addr", ":3333"}, map[string]string{"ROSTER_DATA_ADDR": ":2222"}, ":3333", 7*time.Second, "m1:9610,m2:9610")
	f(nil, map[string]string{"ROSTER_CONFIG": cfg, "ROSTER_NODE_LEASE": "9s"}, ":1111", 9*time.Second, "m1:9610,m2:9610")
}

// TestConfigRefusals: a file or variable that does not fit the command is
// an error naming what is wrong, not a silent default.
func TestConfigRefusals(t *testing.T) {
	f := func(content string, env map[string]string, want string) {
		t.Helper()
		t.Run("", func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			fs, _, _, _, _ := testFlagSet()
			args := []string{}
			if content != "" {
				args = append(args, "--config", writeFile(t, "c.yaml", content))
			}
			err := parseFlags(fs, args, envPrefix)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("config %.40q env %v: got %.200v, want an error containing %q", content, env, err, want)
			}
		})
	}
	f("data-adr: :1\n", nil, `unknown key "data-adr"`)
	f("node-lease: soon\n", nil, `"node-lease"`)
	f("meta: {a: b}\n", nil, "scalar")
	f("meta: [[a]]\n", nil, "scalars only")
	f("meta:\n", nil, "no value")
	f("config: other.yaml\n", nil, "another file")
	f("- a\n- b\n", nil, "cannot parse config file")
	f("data-addr: \""+strings.Repeat("x", maxConfigBytes)+"\"\n", nil, "larger than")
	f("", map[string]string{"ROSTER_NODE_LEASE": "soon"}, "$ROSTER_NODE_LEASE")
	f("", map[string]string{"ROSTER_CONFIG": "/nonexistent/roster.yaml"}, "cannot read config file")
}

func TestSecretFiles(t *testing.T) {
	secret := writeFile(t, "token", "s3cret\n")
	fs, _, _, _, token := testFlagSet()
	if err := parseFlags(fs, []string{"--admin-token-file", secret}, envPrefix); err != nil {
		t.Fatal(err)
	}
	if *token != "s3cret" {
		t.Fatalf("token %q from file, want s3cret", *token)
	}
	f := func(args []string, want string) {
		t.Helper()
		fs, _, _, _, _ := testFlagSet()
		err := parseFlags(fs, args, envPrefix)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%v: got %v, want an error containing %q", args, err, want)
		}
	}
	f([]string{"--admin-token", "x", "--admin-token-file", secret}, "both")
	f([]string{"--admin-token-file", writeFile(t, "empty", "\n")}, "empty")
	f([]string{"--admin-token-file", "/nonexistent"}, "cannot read --admin-token-file")
}

// everyFlagConfig writes a config file that sets every flag of fs (but
// --config) to its default or to the value in set, and returns its path.
func everyFlagConfig(t *testing.T, fs *flag.FlagSet, set map[string]string) string {
	t.Helper()
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		v, ok := set[f.Name]
		if !ok {
			v = f.DefValue
		}
		b.WriteString(f.Name + ": " + strconv.Quote(v) + "\n")
	})
	return writeFile(t, "roster.yaml", b.String())
}

// TestIntegratedConfigEveryFlag: a file holding every flag of `roster
// integrated` is accepted, and every key is applied.
func TestIntegratedConfigEveryFlag(t *testing.T) {
	fs, f := commandFlags("integrated")
	fs.SetOutput(io.Discard)
	registerConfig(fs)
	cfg := everyFlagConfig(t, fs, map[string]string{"zone": "CFG_ZONE", "meta-http-addr": "127.0.0.1:19615", "push-debounce": "35ms"})
	if err := parseFlags(fs, []string{"--config", cfg}, envPrefix); err != nil {
		t.Fatal(err)
	}
	var unset []string
	applied := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { applied[fl.Name] = true })
	fs.VisitAll(func(fl *flag.Flag) {
		if !applied[fl.Name] {
			unset = append(unset, fl.Name)
		}
	})
	if len(unset) != 0 { // --config itself is on the command line
		t.Fatalf("flags the file did not set: %v", unset)
	}
	if f.sf.zone != "CFG_ZONE" || f.mf.httpAddr != "127.0.0.1:19615" || f.sf.debounce != 35*time.Millisecond {
		t.Fatalf("file values not applied: zone %q meta-http-addr %q push-debounce %v", f.sf.zone, f.mf.httpAddr, f.sf.debounce)
	}
}

// FuzzConfigFile: any file content is applied or refused with an error,
// never a panic, and only to flags the command has.
func FuzzConfigFile(f *testing.F) {
	f.Add("data-addr: \":1\"\nmeta: [a, b]\n")
	f.Add("node-lease: 5s\nadmin-token: x\n")
	f.Add("- x\n")
	f.Add("meta: {a: [b]}\n")
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		fs, _, _, _, _ := testFlagSet()
		values, err := readConfig(p, fs)
		if err != nil {
			return
		}
		for k := range values {
			if fs.Lookup(k) == nil || k == "config" {
				t.Fatalf("key %q accepted", k)
			}
		}
	})
}

// TestOwnSecretFileFlag: a command that defines its own --<flag>-file
// keeps it (registerConfig neither redefines it nor reads the file).
func TestOwnSecretFileFlag(t *testing.T) {
	fs := flag.NewFlagSet("own", flag.ContinueOnError)
	token := fs.String("admin-token", "", "")
	own := fs.String("admin-token-file", "", "")
	registerConfig(fs)
	if err := parseFlags(fs, []string{"--admin-token-file", "/nonexistent"}, envPrefix); err != nil {
		t.Fatal(err)
	}
	if *own != "/nonexistent" || *token != "" {
		t.Fatalf("own flag %q, token %q", *own, *token)
	}
}
