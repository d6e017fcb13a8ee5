package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The files under deploy/ must run the binary as it is: these tests parse
// them and check every command, flag, environment variable, config key,
// port and probe against the flag sets of the commands.

const deployDir = "../../deploy"

// roleAddrFlags are the listen flags of each role: RPC (or client) and HTTP.
var roleAddrFlags = map[string][2]string{
	"meta": {"meta-addr", "meta-http-addr"}, "data": {"data-addr", "data-http-addr"}, "session": {"session-addr", "session-http-addr"},
}

// parsedCommand is a server command line as the binary would see it.
type parsedCommand struct {
	cmd string
	fs  *flag.FlagSet
}

// parseCommand parses args (a command and its flags) and the environment
// variables env (literal values only: $(VAR) expansions are checked to name
// a flag, not parsed) with the command's own flag set.
func parseCommand(t *testing.T, where string, args []string, env map[string]string) parsedCommand {
	t.Helper()
	if len(args) == 0 || !slices.Contains(serverCommands, args[0]) {
		t.Fatalf("%s: %v does not start with a server command %v", where, args, serverCommands)
	}
	fs, _ := commandFlags(args[0])
	fs.SetOutput(io.Discard)
	registerConfig(fs)
	if err := fs.Parse(args[1:]); err != nil {
		t.Fatalf("%s: roster %s rejects its arguments %v: %v", where, args[0], args[1:], err)
	}
	if fs.NArg() != 0 {
		t.Fatalf("%s: roster %s has stray arguments %v", where, args[0], fs.Args())
	}
	names := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { names[envName(envPrefix, f.Name)] = f.Name })
	for k, v := range env {
		if !strings.HasPrefix(k, envPrefix) {
			continue
		}
		name, ok := names[k]
		if !ok {
			t.Fatalf("%s: $%s is not a flag of roster %s", where, k, args[0])
		}
		if strings.Contains(v, "$(") {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			t.Fatalf("%s: $%s=%q: %v", where, k, v, err)
		}
	}
	return parsedCommand{cmd: args[0], fs: fs}
}

// applyConfig applies a config file's keys to the flags not set yet, as
// the binary does (without reading secret files: they exist only deployed).
func (p parsedCommand) applyConfig(t *testing.T, path string) {
	t.Helper()
	values, err := readConfig(path, p.fs)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	p.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for k, v := range values {
		if !set[k] {
			if err := p.fs.Set(k, v); err != nil {
				t.Fatalf("%s: %s: %v", path, k, err)
			}
		}
	}
}

func (p parsedCommand) value(name string) string { return p.fs.Lookup(name).Value.String() }

func (p parsedCommand) port(t *testing.T, flagName string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(p.value(flagName))
	n, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil {
		t.Fatalf("roster %s --%s %q has no port", p.cmd, flagName, p.value(flagName))
	}
	return n
}

func (p parsedCommand) duration(t *testing.T, flagName string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(p.value(flagName))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkConfigFile checks that a config file holds only flags of cmd, with
// values they accept, by applying it as the binary would.
func checkConfigFile(t *testing.T, where, path, cmd string) {
	t.Helper()
	fs, _ := commandFlags(cmd)
	fs.SetOutput(io.Discard)
	registerConfig(fs)
	if err := parseFlags(fs, []string{"--config", path}, "ROSTER_DEPLOY_TEST_NONE_"); err != nil {
		t.Fatalf("%s: roster %s rejects %s: %v", where, cmd, path, err)
	}
}

// k8s objects, as far as the checks need them.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas       int              `yaml:"replicas"`
		ServiceName    string           `yaml:"serviceName"`
		ClusterIP      string           `yaml:"clusterIP"`
		MaxUnavailable *int             `yaml:"maxUnavailable"`
		Selector       map[string]any   `yaml:"selector"` // a Service's labels, or matchLabels
		Ports          []k8sServicePort `yaml:"ports"`
		Template       k8sPodSpec       `yaml:"template"`
	} `yaml:"spec"`
}

type k8sServicePort struct {
	Name string `yaml:"name"`
	Port int    `yaml:"port"`
}

type k8sPodSpec struct {
	Metadata struct {
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		TerminationGracePeriodSeconds int            `yaml:"terminationGracePeriodSeconds"`
		Containers                    []k8sContainer `yaml:"containers"`
		Volumes                       []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name string `yaml:"name"`
			} `yaml:"configMap"`
			Secret *struct {
				SecretName string `yaml:"secretName"`
			} `yaml:"secret"`
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
	TCPSocket *struct {
		Port string `yaml:"port"`
	} `yaml:"tcpSocket"`
}

type k8sContainer struct {
	Name string   `yaml:"name"`
	Args []string `yaml:"args"`
	Env  []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

func readK8s(t *testing.T) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under deploy/kubernetes: %v", err)
	}
	var out []k8sObject
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" {
				t.Fatalf("%s: an object without kind", f)
			}
			out = append(out, o)
		}
	}
	return out
}

func labelsMatch(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestKubernetesManifests: every workload runs a real command with flags,
// environment and config the binary takes; its named ports are the ports
// the command listens on; readiness probes ask /health/check on the HTTP
// port; every Service port reaches a container port; every workload has a
// PodDisruptionBudget allowing one pod down at a time; drains fit in the
// termination grace period.
func TestKubernetesManifests(t *testing.T) {
	objs := readK8s(t)
	configs := map[string]string{} // ConfigMap name -> roster.yaml written to a file
	for _, o := range objs {
		if o.Kind == "ConfigMap" {
			if c, ok := o.Data["roster.yaml"]; ok {
				configs[o.Metadata.Name] = writeFile(t, o.Metadata.Name+".yaml", c)
			}
		}
	}
	metaReplicas, metaService := 0, ""
	for _, o := range objs {
		if o.Kind == "StatefulSet" && o.Metadata.Name == "roster-meta" {
			metaReplicas, metaService = o.Spec.Replicas, o.Spec.ServiceName
		}
	}
	workloads := 0
	for _, o := range objs {
		if o.Kind != "StatefulSet" && o.Kind != "Deployment" {
			continue
		}
		workloads++
		where := o.Kind + " " + o.Metadata.Name
		pod := o.Spec.Template
		if !labelsMatch(selectorOf(o), pod.Metadata.Labels) {
			t.Fatalf("%s: selector %v does not select its pods %v", where, o.Spec.Selector, pod.Metadata.Labels)
		}
		if len(pod.Spec.Containers) != 1 {
			t.Fatalf("%s: want one container", where)
		}
		c := pod.Spec.Containers[0]
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		p := parseCommand(t, where, c.Args, env)
		role := p.cmd
		if _, ok := roleAddrFlags[role]; !ok {
			t.Fatalf("%s: runs %q; a cluster runs meta, data and session", where, role)
		}
		// Files named by flags must be on a mount of the right kind.
		mounts := map[string]string{} // mount path -> "configMap:name" or "secret:name"
		for _, m := range c.VolumeMounts {
			for _, v := range pod.Spec.Volumes {
				if v.Name != m.Name {
					continue
				}
				switch {
				case v.ConfigMap != nil:
					mounts[m.MountPath] = "configMap:" + v.ConfigMap.Name
				case v.Secret != nil:
					mounts[m.MountPath] = "secret:" + v.Secret.SecretName
				}
			}
		}
		onMount := func(flagName, kind string) string {
			path := p.value(flagName)
			if path == "" {
				return ""
			}
			src, ok := mounts[filepath.Dir(path)]
			if !ok || !strings.HasPrefix(src, kind+":") {
				t.Fatalf("%s: --%s %s is not on a %s volume (mounts %v)", where, flagName, path, kind, mounts)
			}
			return strings.TrimPrefix(src, kind+":")
		}
		if cm := onMount("config", "configMap"); cm != "" {
			if configs[cm] == "" {
				t.Fatalf("%s: --config on ConfigMap %s, which has no roster.yaml", where, cm)
			}
			checkConfigFile(t, where+" ConfigMap "+cm, configs[cm], role)
			p.applyConfig(t, configs[cm])
		}
		for _, s := range secretFlags {
			if p.fs.Lookup(s+"-file") != nil {
				onMount(s+"-file", "secret")
			}
		}
		// A node of a cluster refuses to start without node credentials.
		if p.value("cluster-secret-file") == "" && p.value("tls-cert") == "" {
			t.Fatalf("%s: roster %s needs --cluster-secret-file (or --tls-*) on a secret volume", where, role)
		}
		onMount("cluster-secret-file", "secret")
		if role == "meta" && p.value("store-file") == "" && p.value("store") == "" {
			t.Fatalf("%s: a meta node in a cluster needs a MySQL --store (or --store-file)", where)
		}
		// Ports and probes.
		ports := map[string]int{}
		for _, cp := range c.Ports {
			ports[cp.Name] = cp.ContainerPort
		}
		rpcFlag, httpFlag := roleAddrFlags[role][0], roleAddrFlags[role][1]
		rpcName := "rpc"
		if role == "session" {
			rpcName = "client"
		}
		if ports[rpcName] != p.port(t, rpcFlag) || ports["http"] != p.port(t, httpFlag) {
			t.Fatalf("%s: container ports %v, but roster %s listens on --%s %s and --%s %s",
				where, ports, role, rpcFlag, p.value(rpcFlag), httpFlag, p.value(httpFlag))
		}
		if r := c.ReadinessProbe; r == nil || r.HTTPGet == nil || r.HTTPGet.Path != "/health/check" || r.HTTPGet.Port != "http" {
			t.Fatalf("%s: want a readiness probe GET /health/check on port http", where)
		}
		if l := c.LivenessProbe; l == nil || (l.HTTPGet == nil || l.HTTPGet.Port != "http") && (l.TCPSocket == nil || l.TCPSocket.Port != "http") {
			t.Fatalf("%s: want a liveness probe on port http", where)
		}
		if a := pod.Metadata.Annotations["prometheus.io/port"]; a != strconv.Itoa(ports["http"]) {
			t.Fatalf("%s: prometheus.io/port %q, metrics are on %d", where, a, ports["http"])
		}
		// The meta addresses data and session nodes dial are the meta pods' RPC ports.
		if role != "meta" {
			metas := splitList(p.value("meta"))
			if len(metas) != metaReplicas || metaReplicas == 0 {
				t.Fatalf("%s: --meta %v, but the meta StatefulSet has %d replicas", where, metas, metaReplicas)
			}
			for i, m := range metas {
				if want := "roster-meta-" + strconv.Itoa(i) + "." + metaService + ":9610"; m != want {
					t.Fatalf("%s: --meta entry %q, want %q (meta pod %d's RPC port)", where, m, want, i)
				}
			}
			if grace := time.Duration(pod.Spec.TerminationGracePeriodSeconds) * time.Second; grace <= p.duration(t, "drain-timeout")+stopGrace {
				t.Fatalf("%s: terminationGracePeriodSeconds %v does not cover --drain-timeout %v + %v", where, grace, p.value("drain-timeout"), stopGrace)
			}
		}
		if o.Kind == "StatefulSet" {
			if adv := env["ROSTER_ADVERTISE_ADDR"]; !strings.Contains(adv, "$(POD_NAME)."+o.Spec.ServiceName+".") {
				t.Fatalf("%s: advertises %q, want its stable name under Service %s", where, adv, o.Spec.ServiceName)
			}
		}
		// A Service and a PodDisruptionBudget select these pods.
		var pdb, svc bool
		for _, other := range objs {
			if !labelsMatch(selectorOf(other), pod.Metadata.Labels) {
				continue
			}
			switch other.Kind {
			case "PodDisruptionBudget":
				if other.Spec.MaxUnavailable == nil || *other.Spec.MaxUnavailable != 1 {
					t.Fatalf("PodDisruptionBudget %s: want maxUnavailable 1", other.Metadata.Name)
				}
				pdb = true
			case "Service":
				for _, sp := range other.Spec.Ports {
					if ports[sp.Name] != sp.Port {
						t.Fatalf("Service %s: port %s %d, the pods of %s listen on %v", other.Metadata.Name, sp.Name, sp.Port, where, ports)
					}
				}
				svc = true
			}
		}
		if !pdb || !svc {
			t.Fatalf("%s: want a Service (%v) and a PodDisruptionBudget (%v) selecting its pods", where, svc, pdb)
		}
	}
	if workloads != 3 {
		t.Fatalf("want the meta, data and session workloads, found %d", workloads)
	}
}

// selectorOf returns the labels an object selects pods by: a Service's
// selector is a plain map, the others' its matchLabels.
func selectorOf(o k8sObject) map[string]string {
	sel := o.Spec.Selector
	if o.Kind != "Service" {
		sel, _ = sel["matchLabels"].(map[string]any)
	}
	out := map[string]string{}
	for k, v := range sel {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		out[k] = s
	}
	return out
}

// TestExampleConfigs: deploy/config/<command>.yaml are config files
// `roster <command>` accepts.
func TestExampleConfigs(t *testing.T) {
	for _, cmd := range serverCommands {
		checkConfigFile(t, "deploy/config", filepath.Join(deployDir, "config", cmd+".yaml"), cmd)
	}
}

// TestSystemdUnit: the unit's command line is valid for every role it may
// run, and systemd waits longer than the longest drain of deploy/config.
func TestSystemdUnit(t *testing.T) {
	unit := readKeys(t, filepath.Join(deployDir, "systemd", "roster@.service"))
	exec := strings.Fields(unit["ExecStart"])
	if len(exec) < 2 || exec[1] != "%i" {
		t.Fatalf("ExecStart %q: want the binary then %%i", unit["ExecStart"])
	}
	// LoadCredential may repeat, which readKeys (the last value of a key)
	// does not keep: the credentials' names are read from the file itself.
	b, err := os.ReadFile(filepath.Join(deployDir, "systemd", "roster@.service"))
	if err != nil {
		t.Fatal(err)
	}
	var creds []string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "LoadCredential="); ok {
			name, _, _ := strings.Cut(v, ":")
			creds = append(creds, name)
		}
	}
	stop, err := time.ParseDuration(unit["TimeoutStopSec"])
	if err != nil {
		t.Fatalf("TimeoutStopSec %q: %v", unit["TimeoutStopSec"], err)
	}
	for _, cmd := range serverCommands {
		args := slices.Clone(exec[1:])
		for i, a := range args {
			a = strings.ReplaceAll(a, "%i", cmd)
			args[i] = strings.ReplaceAll(a, "${CREDENTIALS_DIRECTORY}", "/run/credentials/roster@"+cmd+".service")
		}
		p := parseCommand(t, "roster@"+cmd, args, nil)
		if want := "/etc/roster/" + cmd + ".yaml"; p.value("config") != want {
			t.Fatalf("roster@%s: --config %q, want %q", cmd, p.value("config"), want)
		}
		if !strings.HasSuffix(p.value("admin-token-file"), "/admin-token") || !slices.Contains(creds, "admin-token") {
			t.Fatalf("roster@%s: the admin token must come from the admin-token credential", cmd)
		}
		if !strings.HasSuffix(p.value("cluster-secret-file"), "/cluster-secret") || !slices.Contains(creds, "cluster-secret") {
			t.Fatalf("roster@%s: the cluster secret must come from the cluster-secret credential", cmd)
		}
		if p.fs.Lookup("drain-timeout") != nil {
			checkConfigFile(t, "deploy/config", filepath.Join(deployDir, "config", cmd+".yaml"), cmd)
			p.applyConfig(t, filepath.Join(deployDir, "config", cmd+".yaml"))
			if d := p.duration(t, "drain-timeout"); stop <= d+stopGrace {
				t.Fatalf("TimeoutStopSec %v does not cover roster %s's --drain-timeout %v + %v", stop, cmd, d, stopGrace)
			}
		}
	}
	if unit["User"] == "root" || unit["DynamicUser"] != "yes" && unit["User"] == "" {
		t.Fatal("the unit must not run as root")
	}
}

// TestDockerfile: a static binary, a non-root user, the default ports exposed.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.Contains(text, "CGO_ENABLED=0") {
		t.Fatal("Dockerfile: the binary must be static (CGO_ENABLED=0)")
	}
	var user, expose, cmd string
	for _, line := range strings.Split(text, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "USER":
			user = v
		case "EXPOSE":
			expose = v
		case "CMD":
			cmd = v
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "0" || u == "root" {
		t.Fatalf("Dockerfile: USER %q, want a non-root user", user)
	}
	p := parseCommand(t, "Dockerfile CMD", jsonArgs(t, cmd), nil)
	var want []string
	for _, role := range []string{"session", "data", "meta"} {
		for _, f := range roleAddrFlags[role] {
			want = append(want, strconv.Itoa(p.port(t, f)))
		}
	}
	if got := strings.Fields(expose); !slices.Equal(got, want) {
		t.Fatalf("Dockerfile: EXPOSE %v, roster %s listens on %v", got, p.cmd, want)
	}
}

func jsonArgs(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	if err := yaml.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("cannot parse %q as a JSON list: %v", s, err)
	}
	return out
}

// readKeys reads the Key=Value lines of a systemd unit (the last one wins).
func readKeys(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
