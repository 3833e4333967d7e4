package main

// Checks of deploy/: no Docker engine or Kubernetes cluster runs where the
// tests do, so the files are checked for what can be checked here: they
// parse, name the services, probes and variables the binary really has, keep
// /metrics private, and the image's build stage (deploy/build.sh) builds a
// static binary whose health check works.

import (
	"context"
	"debug/elf"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/menqian/menqian/service"
)

const deployDir = "../../deploy"

// knownVariables is every MENQIAN_* variable the binary reads, and the
// AWS_* credentials of the photo store: the names loadConfig asks for, and
// those passed to getenv or get anywhere in this package's code (the
// commands read a few of their own).
func knownVariables(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	loadConfig(func(name string) string { known[name] = true; return "" })
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range pkgs {
		ast.Inspect(pkg, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if fn, ok := call.Fun.(*ast.Ident); !ok || (fn.Name != "getenv" && fn.Name != "get") {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if name, err := strconv.Unquote(lit.Value); err == nil && (strings.HasPrefix(name, "MENQIAN_") || strings.HasPrefix(name, "AWS_")) {
					known[name] = true
				}
			}
			return true
		})
	}
	for _, want := range []string{"MENQIAN_ADDR", "MENQIAN_SECRET", "MENQIAN_MYSQL_DSN", "MENQIAN_METRICS_ADDR", "MENQIAN_DRAIN", "AWS_SECRET_ACCESS_KEY"} {
		if !known[want] {
			t.Fatalf("known variables %v lack %s: the source parse is broken", known, want)
		}
	}
	return known
}

// unknownVariables lists the names of env that the binary does not read;
// allowed are names read by something else (the Go runtime).
func unknownVariables(env map[string]string, known map[string]bool, allowed ...string) []string {
	var bad []string
	for name := range env {
		if !known[name] && !slices.Contains(allowed, name) {
			bad = append(bad, name)
		}
	}
	slices.Sort(bad)
	return bad
}

func TestDeployKnownVariables(t *testing.T) {
	t.Parallel()
	known := knownVariables(t)
	got := unknownVariables(map[string]string{"MENQIAN_ADDR": ":8080", "MENQIAN_SQLITE_FILE": "x", "GOMEMLIMIT": "1GiB", "GOGC": "50"}, known, "GOMEMLIMIT")
	if want := []string{"GOGC", "MENQIAN_SQLITE_FILE"}; !slices.Equal(got, want) {
		t.Errorf("unknownVariables = %v, want %v", got, want)
	}
}

// readYAML decodes every document of a deploy file.
func readYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no document", path)
	}
	return docs
}

// at walks a decoded YAML value along keys (map keys, or list indexes as numbers).
func at(v any, keys ...any) any {
	for _, k := range keys {
		switch c := v.(type) {
		case map[string]any:
			v = c[k.(string)]
		case []any:
			i, ok := k.(int)
			if !ok || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// str is a decoded scalar as text, or a list or mapping as one line of YAML
// ("- migrate").
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return strings.ReplaceAll(strings.TrimSpace(yamlString(v)), "\n", " ")
}

func yamlString(v any) string { b, _ := yaml.Marshal(v); return string(b) }

// stringMap turns a decoded mapping of scalars into strings.
func stringMap(v any) map[string]string {
	m := map[string]string{}
	if c, ok := v.(map[string]any); ok {
		for k, val := range c {
			m[k] = str(val)
		}
	}
	return m
}

// portOf is the port of a listen address such as ":8080".
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := splitPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("address %q has no port", addr)
	}
	return n
}

// stopBudget is how long a stopping instance may take: the drain, then the
// requests in flight (cmdServe's shutdown context).
func stopBudget(c config) time.Duration { return c.Drain + c.Timeout + 5*time.Second }

// interpolated resolves compose's ${VAR}, ${VAR:-default} and ${VAR:?error}:
// the default, or for a required variable a value that passes loadConfig.
func interpolated(env map[string]string) map[string]string {
	re := regexp.MustCompile(`\$\{([A-Z_]+)(?::?([-?])([^}]*))?\}`)
	out := map[string]string{}
	for k, v := range env {
		out[k] = re.ReplaceAllStringFunc(v, func(m string) string {
			p := re.FindStringSubmatch(m)
			if p[2] == "-" {
				return p[3]
			}
			return "set-in-dot-env-0123456789"
		})
	}
	return out
}

func TestDeployCompose(t *testing.T) {
	t.Parallel()
	known := knownVariables(t)
	doc := readYAML(t, filepath.Join(deployDir, "docker-compose.yml"))[0]
	services, _ := doc["services"].(map[string]any)
	var names []string
	for name := range services {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"mariadb", "menqian1", "menqian2", "migrate", "nginx", "redis"}; !slices.Equal(names, want) {
		t.Fatalf("services = %v, want %v", names, want)
	}

	// Health: every long-running service has a check; the one-shot migrate
	// has none (it serves nothing) and is waited for to complete.
	for name, s := range services {
		hc := at(s, "healthcheck")
		if name == "migrate" {
			if at(hc, "disable") != true || str(at(s, "restart")) != "no" || str(at(s, "command")) != "- migrate" {
				t.Errorf("migrate: healthcheck %v, restart %v, command %v; want disabled, no, [migrate]", hc, at(s, "restart"), at(s, "command"))
			}
			continue
		}
		if test, _ := at(hc, "test").([]any); len(test) < 2 || test[0] != "CMD" {
			t.Errorf("%s: healthcheck test %v, want [CMD ...]", name, at(hc, "test"))
		}
	}
	for name, s := range services {
		deps, _ := at(s, "depends_on").(map[string]any)
		for dep := range deps {
			cond := str(at(deps, dep, "condition"))
			want := "service_healthy"
			if dep == "migrate" {
				want = "service_completed_successfully"
			}
			if cond != want {
				t.Errorf("%s depends on %s with %q, want %q", name, dep, cond, want)
			}
		}
	}
	for _, inst := range []string{"menqian1", "menqian2"} {
		deps := at(services, inst, "depends_on")
		for _, dep := range []string{"mariadb", "redis", "migrate"} {
			if at(deps, dep) == nil {
				t.Errorf("%s does not wait for %s", inst, dep)
			}
		}
		if test := str(at(services, inst, "healthcheck", "test")); !strings.Contains(test, "healthcheck") {
			t.Errorf("%s: healthcheck %q, want menqian healthcheck", inst, test)
		}
	}
	for _, inst := range []string{"menqian1", "menqian2"} {
		if at(services, "nginx", "depends_on", inst) == nil {
			t.Errorf("nginx does not wait for %s", inst)
		}
	}

	// Variables: only ones the binary reads, a configuration it accepts,
	// the same on both instances, migrations left to the migrate service.
	env1 := stringMap(at(services, "menqian1", "environment"))
	for _, name := range []string{"menqian1", "menqian2", "migrate"} {
		env := stringMap(at(services, name, "environment"))
		if bad := unknownVariables(env, known); len(bad) > 0 {
			t.Errorf("%s sets variables menqian does not read: %v", name, bad)
		}
		if yamlString(env) != yamlString(env1) {
			t.Errorf("%s's environment differs from menqian1's", name)
		}
	}
	if env1["MENQIAN_MIGRATE"] != "off" || !strings.Contains(env1["MENQIAN_SECRET"], "${MENQIAN_SECRET:?") {
		t.Errorf("instances: MENQIAN_MIGRATE=%q MENQIAN_SECRET=%q, want off and a required variable", env1["MENQIAN_MIGRATE"], env1["MENQIAN_SECRET"])
	}
	cfg, err := loadConfig(func(k string) string { return interpolated(env1)[k] })
	if err != nil {
		t.Fatalf("the instances' configuration: %v", err)
	}
	if cfg.MetricsAddr == "" || cfg.Proxies == "" {
		t.Errorf("instances: metrics address %q, trusted proxies %q; want both set", cfg.MetricsAddr, cfg.Proxies)
	}
	if grace, err := time.ParseDuration(str(at(services, "menqian1", "stop_grace_period"))); err != nil || grace <= stopBudget(cfg) {
		t.Errorf("stop_grace_period %v, want more than drain + request timeout + 5s = %v", at(services, "menqian1", "stop_grace_period"), stopBudget(cfg))
	}
	// One photo directory for both instances, on the one host compose runs
	// on (README, Photo store: a bucket on more than one).
	for _, inst := range []string{"menqian1", "menqian2"} {
		if got, want := str(at(services, inst, "volumes", 0)), "photos:"+cfg.PhotoDir; got != want {
			t.Errorf("%s mounts %q, want %q", inst, got, want)
		}
	}

	// Ports: only nginx publishes one; the metrics port is never published.
	metricsPort := strconv.Itoa(portOf(t, cfg.MetricsAddr))
	for name, s := range services {
		ports, _ := at(s, "ports").([]any)
		if name != "nginx" && len(ports) > 0 {
			t.Errorf("%s publishes %v; only nginx may", name, ports)
		}
		for _, p := range ports {
			if ps := str(p); strings.HasSuffix(ps, ":"+metricsPort) || ps == metricsPort {
				t.Errorf("%s publishes the metrics port: %s", name, ps)
			}
		}
	}
	if got := str(at(services, "nginx", "ports")); got != "- 8080:80" {
		t.Errorf("nginx publishes %s, want 8080:80", got)
	}
	// nginx.conf's `server … resolve` in an upstream is open-source nginx's from 1.27.3 on.
	if img := str(at(services, "nginx", "image")); !regexp.MustCompile(`^nginx:1\.(2[89]|[3-9]\d)`).MatchString(img) {
		t.Errorf("nginx image %q, want 1.28 or later", img)
	}
	if got := str(at(services, "nginx", "volumes", 0)); !strings.HasPrefix(got, "./nginx.conf:/etc/nginx/nginx.conf") {
		t.Errorf("nginx mounts %q, want ./nginx.conf", got)
	}
}

func TestDeployNginx(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(deployDir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := regexp.MustCompile(`(?m)#.*$`).ReplaceAllString(string(b), "")
	if strings.Count(conf, "{") != strings.Count(conf, "}") {
		t.Fatal("nginx.conf: unbalanced braces")
	}
	upstream := regexp.MustCompile(`upstream menqian \{([^}]*)\}`).FindStringSubmatch(conf)
	if upstream == nil {
		t.Fatal("nginx.conf: no upstream menqian")
	}
	for _, inst := range []string{"menqian1", "menqian2"} {
		if !regexp.MustCompile(`server ` + inst + `:8080 [^;]*max_fails=\d+ fail_timeout=\d+s;`).MatchString(upstream[1]) {
			t.Errorf("upstream lacks %s:8080 with max_fails and fail_timeout (passive health checks)", inst)
		}
	}
	if !strings.Contains(conf, "proxy_pass http://menqian;") {
		t.Error("nothing is proxied to the upstream")
	}
	for _, h := range []string{"Host $host", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme", "X-Request-ID $request_id"} {
		if !strings.Contains(conf, "proxy_set_header "+h+";") {
			t.Errorf("nginx.conf does not set %s", h)
		}
	}
	// Bodies: the largest menqian takes (an import, or a page's form with
	// photos, 16 MiB) with its multipart form.
	m := regexp.MustCompile(`client_max_body_size (\d+)m;`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatal("nginx.conf: no client_max_body_size in MiB")
	}
	if n, _ := strconv.Atoi(m[1]); int64(n)<<20 < service.MaxImportBytes+64<<10 || int64(n)<<20 < service.MaxPhotoBytes+64<<10 {
		t.Errorf("client_max_body_size %sm is below menqian's largest upload (%d bytes and its form)", m[1], service.MaxImportBytes)
	}
	if !regexp.MustCompile(`location = /metrics \{\s*return 404;\s*\}`).MatchString(conf) {
		t.Error("/metrics is not refused at the proxy")
	}
	if strings.Contains(conf, "9464") {
		t.Error("nginx.conf names the metrics port")
	}
}

func TestDeployDockerfile(t *testing.T) {
	t.Parallel()
	known := knownVariables(t)
	b, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string // instructions, continuation lines joined, comments dropped
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	var stages []string
	final := map[string][]string{} // instruction -> arguments, of the last stage
	for _, l := range lines {
		inst, args, _ := strings.Cut(l, " ")
		switch inst {
		case "ARG":
			if v, ok := strings.CutPrefix(args, "GO_VERSION="); ok && goLine != nil && v != string(goLine[1]) {
				t.Errorf("GO_VERSION=%s, go.mod says go %s", v, goLine[1])
			}
		case "FROM":
			stages = append(stages, args)
			final = map[string][]string{}
		case "RUN":
			if len(stages) == 1 && strings.Contains(args, "build.sh") && !strings.Contains(args, "sh deploy/build.sh /out") {
				t.Errorf("the build stage runs %q, want sh deploy/build.sh /out", args)
			}
		case "ENV":
			for _, kv := range strings.Fields(args) {
				name, _, _ := strings.Cut(kv, "=")
				if !known[name] {
					t.Errorf("ENV %s: menqian does not read it", name)
				}
			}
		}
		final[inst] = append(final[inst], args)
	}
	if len(stages) != 2 || !strings.HasPrefix(stages[0], "golang:") || !strings.Contains(stages[1], "distroless/static") {
		t.Fatalf("stages %v, want a golang builder and a distroless static base", stages)
	}
	if !strings.Contains(string(b), "sh deploy/build.sh /out") {
		t.Error("the build stage does not run deploy/build.sh")
	}
	if u := strings.Join(final["USER"], ""); u == "" || strings.HasPrefix(u, "0") || strings.HasPrefix(u, "root") {
		t.Errorf("USER %q, want a non-root user", u)
	}
	if hc := strings.Join(final["HEALTHCHECK"], ""); !strings.Contains(hc, `CMD ["/menqian", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q, want menqian healthcheck", hc)
	}
	if v := strings.Join(final["VOLUME"], ""); v != "/data" {
		t.Errorf("VOLUME %q, want /data", v)
	}
	if c := strings.Join(final["COPY"], " | "); !strings.Contains(c, "/out/menqian /menqian") || !strings.Contains(c, "--chown=65532:65532 /out/data /data") {
		t.Errorf("the final stage copies %q, want the binary and /data owned by the non-root user", c)
	}
}

// k8sObjects reads every manifest kustomization.yaml lists, by kind, and
// checks that it lists every manifest of the directory.
func k8sObjects(t *testing.T) map[string]map[string]any {
	t.Helper()
	dir := filepath.Join(deployDir, "k8s")
	kust := readYAML(t, filepath.Join(dir, "kustomization.yaml"))[0]
	var listed []string
	for _, r := range at(kust, "resources").([]any) {
		listed = append(listed, str(r))
	}
	slices.Sort(listed)
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var all []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			all = append(all, base)
		}
	}
	if !slices.Equal(listed, all) {
		t.Errorf("kustomization.yaml lists %v, the directory has %v", listed, all)
	}
	objs := map[string]map[string]any{}
	for _, f := range all {
		for _, o := range readYAML(t, filepath.Join(dir, f)) {
			kind := str(o["kind"])
			if str(o["apiVersion"]) == "" || kind == "" || str(at(o, "metadata", "name")) == "" {
				t.Errorf("%s: an object without apiVersion, kind or metadata.name", f)
			}
			if objs[kind] != nil {
				t.Errorf("two objects of kind %s", kind)
			}
			objs[kind] = o
		}
	}
	for _, kind := range []string{"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job", "ConfigMap", "Secret"} {
		if objs[kind] == nil {
			t.Fatalf("deploy/k8s has no %s", kind)
		}
	}
	return objs
}

// selects reports whether a matchLabels selector picks pods with labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// mebibytes reads a Kubernetes memory quantity in Mi or Gi.
func mebibytes(t *testing.T, q string) int {
	t.Helper()
	for suffix, mult := range map[string]int{"Mi": 1, "Gi": 1024} {
		if n, ok := strings.CutSuffix(q, suffix); ok {
			if v, err := strconv.Atoi(n); err == nil {
				return v * mult
			}
		}
	}
	t.Fatalf("memory quantity %q: want Mi or Gi", q)
	return 0
}

func TestDeployKubernetes(t *testing.T) {
	t.Parallel()
	known := knownVariables(t)
	objs := k8sObjects(t)
	dep, cm, secret := objs["Deployment"], objs["ConfigMap"], objs["Secret"]
	podLabels := stringMap(at(dep, "spec", "template", "metadata", "labels"))
	if !selects(stringMap(at(dep, "spec", "selector", "matchLabels")), podLabels) {
		t.Fatal("the Deployment's selector does not pick its own pods")
	}
	if r := at(dep, "spec", "replicas"); r != 2 {
		t.Errorf("replicas %v, want 2", r)
	}

	// The configuration: variables menqian reads, valid once the Secret's
	// placeholders are filled in, refused as the template ships.
	cmData, secretData := stringMap(cm["data"]), stringMap(secret["stringData"])
	for name, v := range secretData {
		if !strings.Contains(v, "CHANGE_ME") {
			t.Errorf("Secret %s = %q: a template holds placeholders (CHANGE_ME), never a value", name, v)
		}
	}
	env := map[string]string{}
	for k, v := range cmData {
		env[k] = v
	}
	for k, v := range secretData {
		env[k] = v
	}
	if _, err := loadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "MENQIAN_SECRET") {
		t.Errorf("the Secret as shipped is accepted (%v); its MENQIAN_SECRET placeholder must be refused", err)
	}
	for k, v := range env {
		env[k] = strings.ReplaceAll(v, "CHANGE_ME", "filled-in-by-the-operator-0123456789")
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("ConfigMap and Secret: %v", err)
	}
	if cfg.Migrate || cfg.MySQLDSN == "" || cfg.MetricsAddr == "" {
		t.Errorf("migrate %v, DSN %q, metrics %q; want off, a MySQL DSN and a metrics address", cfg.Migrate, cfg.MySQLDSN, cfg.MetricsAddr)
	}
	// Photos in a bucket every pod shares, its credentials in the Secret.
	if cfg.PhotoStore == "" || cfg.S3.AccessKey == "" {
		t.Errorf("photo store %q, want an S3 bucket with credentials", cfg.PhotoStore)
	}
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if _, ok := secretData[name]; !ok || cmData[name] != "" {
			t.Errorf("%s: want it in the Secret, not the ConfigMap", name)
		}
	}

	pod := at(dep, "spec", "template", "spec")
	containers, _ := at(pod, "containers").([]any)
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0]
	checkEnv := func(what string, c any) {
		t.Helper()
		names := map[string]string{}
		for _, e := range asList(at(c, "env")) {
			names[str(at(e, "name"))] = ""
		}
		for _, ef := range asList(at(c, "envFrom")) {
			switch {
			case str(at(ef, "configMapRef", "name")) == str(at(cm, "metadata", "name")):
				for k := range cmData {
					names[k] = ""
				}
			case str(at(ef, "secretRef", "name")) == str(at(secret, "metadata", "name")):
				for k := range secretData {
					names[k] = ""
				}
			default:
				t.Errorf("%s: envFrom %v names no object of deploy/k8s", what, ef)
			}
		}
		if bad := unknownVariables(names, known, "GOMEMLIMIT"); len(bad) > 0 {
			t.Errorf("%s sets variables menqian does not read: %v", what, bad)
		}
		if _, ok := names["MENQIAN_SECRET"]; !ok {
			t.Errorf("%s: no MENQIAN_SECRET", what)
		}
	}
	checkEnv("the Deployment", c)

	// Ports and probes: /readyz and /healthz on the port menqian listens on.
	ports := map[string]int{}
	for _, p := range asList(at(c, "ports")) {
		n, _ := at(p, "containerPort").(int)
		ports[str(at(p, "name"))] = n
	}
	httpPort, metricsPort := portOf(t, cfg.Addr), portOf(t, cfg.MetricsAddr)
	if ports["http"] != httpPort || ports["metrics"] != metricsPort {
		t.Errorf("container ports %v, want http %d and metrics %d (MENQIAN_ADDR, MENQIAN_METRICS_ADDR)", ports, httpPort, metricsPort)
	}
	probePort := func(p any) int {
		if n, ok := p.(int); ok {
			return n
		}
		return ports[str(p)]
	}
	for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"} {
		get := at(c, probe, "httpGet")
		if str(at(get, "path")) != path || probePort(at(get, "port")) != httpPort {
			t.Errorf("%s: %v, want GET %s on port %d", probe, get, path, httpPort)
		}
	}

	// Stopping: the drain and the requests in flight fit in the grace period.
	if g, _ := at(pod, "terminationGracePeriodSeconds").(int); time.Duration(g)*time.Second <= stopBudget(cfg) {
		t.Errorf("terminationGracePeriodSeconds %d, want more than drain + request timeout + 5s = %v", g, stopBudget(cfg))
	}
	if at(c, "lifecycle") != nil {
		t.Error("a lifecycle hook: menqian drains by itself on SIGTERM (MENQIAN_DRAIN)")
	}
	// Resources from the measured peak RSS (about 200 MiB).
	req, lim := mebibytes(t, str(at(c, "resources", "requests", "memory"))), mebibytes(t, str(at(c, "resources", "limits", "memory")))
	if req < 200 || lim < req || str(at(c, "resources", "requests", "cpu")) == "" {
		t.Errorf("memory request %d Mi, limit %d Mi, cpu request %q; want ≥ 200 Mi, limit ≥ request, a CPU request (the autoscaler needs it)", req, lim, at(c, "resources", "requests", "cpu"))
	}
	for _, v := range asList(at(pod, "volumes")) {
		if at(v, "persistentVolumeClaim") != nil {
			t.Errorf("volume %v: the pods keep nothing on a volume (the photos are in the bucket)", at(v, "name"))
		}
	}
	if at(c, "securityContext", "readOnlyRootFilesystem") != true || at(pod, "securityContext", "runAsNonRoot") != true {
		t.Error("the pod must run as non-root on a read-only root file system")
	}

	// The Service carries HTTP only, to these pods.
	svc := objs["Service"]
	if !selects(stringMap(at(svc, "spec", "selector")), podLabels) {
		t.Error("the Service does not select the Deployment's pods")
	}
	if typ := str(at(svc, "spec", "type")); typ != "" && typ != "ClusterIP" {
		t.Errorf("Service type %s, want ClusterIP (published by an ingress)", typ)
	}
	for _, p := range asList(at(svc, "spec", "ports")) {
		if tp := at(p, "targetPort"); probePort(tp) != httpPort {
			t.Errorf("the Service sends to port %v, want only http (%d): /metrics stays private", tp, httpPort)
		}
	}

	pdb := objs["PodDisruptionBudget"]
	if !selects(stringMap(at(pdb, "spec", "selector", "matchLabels")), podLabels) || at(pdb, "spec", "minAvailable") != 1 {
		t.Errorf("PodDisruptionBudget %v, want minAvailable 1 over the Deployment's pods", at(pdb, "spec"))
	}
	hpa := objs["HorizontalPodAutoscaler"]
	if str(hpa["apiVersion"]) != "autoscaling/v2" || str(at(hpa, "spec", "scaleTargetRef", "kind")) != "Deployment" ||
		str(at(hpa, "spec", "scaleTargetRef", "name")) != str(at(dep, "metadata", "name")) ||
		str(at(hpa, "spec", "metrics", 0, "resource", "name")) != "cpu" {
		t.Errorf("HorizontalPodAutoscaler %v, want autoscaling/v2 on the Deployment by CPU", hpa)
	}
	if min, _ := at(hpa, "spec", "minReplicas").(int); min < 2 {
		t.Errorf("minReplicas %d, want at least 2 (the PodDisruptionBudget keeps 1)", min)
	}

	// The migrate Job: same configuration, `menqian migrate`, and pods that
	// neither the Service nor the budget count as servers.
	job := objs["Job"]
	jc := at(job, "spec", "template", "spec", "containers", 0)
	checkEnv("the migrate Job", jc)
	if str(at(jc, "args")) != "- migrate" || str(at(jc, "image")) != str(at(c, "image")) {
		t.Errorf("the Job runs %v %v, want the Deployment's image with migrate", at(jc, "image"), at(jc, "args"))
	}
	jobLabels := stringMap(at(job, "spec", "template", "metadata", "labels"))
	if selects(stringMap(at(pdb, "spec", "selector", "matchLabels")), jobLabels) || selects(stringMap(at(svc, "spec", "selector")), jobLabels) {
		t.Error("the Job's pods carry the server pods' labels")
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

// TestDeployBuildScript runs the image's build stage as the plain script it
// is, then the result as the image would: a static binary whose health check
// answers for a running `serve` configured as in a container.
func TestDeployBuildScript(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary (about a minute on a busy machine)")
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	build := exec.CommandContext(ctx, "sh", filepath.Join(deployDir, "build.sh"), out)
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("deploy/build.sh: %v\n%s", err, b)
	}
	t.Logf("deploy/build.sh took %v", time.Since(start).Round(time.Millisecond))
	bin := filepath.Join(out, "menqian")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%v): it would not run on distroless/static", p.Type)
		}
	}
	f.Close()
	if fi, err := os.Stat(filepath.Join(out, "data", "photos")); err != nil || !fi.IsDir() {
		t.Errorf("no data/photos directory for the image's /data: %v", err)
	}
	if b, err := exec.Command(bin, "-h").CombinedOutput(); err != nil || !strings.Contains(string(b), "healthcheck") {
		t.Errorf("menqian -h: %v\n%s", err, b)
	}

	// Outside any container: its environment only, with the image's names.
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "MENQIAN_ADDR=" + addr, "MENQIAN_DRAIN=0s",
		"MENQIAN_SQLITE_PATH=" + filepath.Join(dir, "menqian.db"), "MENQIAN_PHOTO_DIR=" + filepath.Join(dir, "photos"),
		"MENQIAN_ADMIN_PASSWORD=deploy-test-admin-pw-7"}
	healthcheck := func(args ...string) error {
		cmd := exec.Command(bin, append([]string{"healthcheck"}, args...)...)
		cmd.Env = env
		return cmd.Run()
	}
	if err := healthcheck(); err == nil {
		t.Fatal("healthcheck passes with nothing listening")
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	if err := healthcheck("-url", down.URL+"/healthz"); err == nil {
		t.Error("healthcheck passes on a 503")
	}
	serve := exec.Command(bin, "serve")
	serve.Env = env
	var logs lockedBuffer
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	defer func() {
		serve.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve stopped with %v\n%s", err, logs.String())
			}
		case <-time.After(30 * time.Second):
			serve.Process.Kill()
			t.Errorf("serve did not stop on SIGINT\n%s", logs.String())
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for healthcheck() != nil {
		select {
		case err := <-exited:
			t.Fatalf("serve exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck still failing after 60s\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
