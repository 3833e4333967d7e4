package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models/dbtest"
)

// Cluster is a Redis Cluster of the test's own: redis-server processes
// on free ports (never the machine's Redis), joined by redis-cli --cluster
// create, without persistence, killed by their pids when the test ends.
type Cluster struct {
	t     testing.TB
	nodes map[string]*exec.Cmd // address → its process; nil once killed
	addrs []string
}

// StartCluster starts masters × (1 + replicas) nodes and waits until the cluster
// is ok, every replica in sync with its master. Without redis-server and
// redis-cli the test is skipped, or fails when MENQIAN_TEST_REQUIRE=1.
func StartCluster(t testing.TB, masters, replicas int) *Cluster {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv(dbtest.EnvRequire) == "1" {
				t.Fatalf("%s is required (MENQIAN_TEST_REQUIRE=1) but not installed", bin)
			}
			t.Skipf("%s not installed", bin)
		}
	}
	dir := t.TempDir()
	c := &Cluster{t: t, nodes: map[string]*exec.Cmd{}}
	t.Cleanup(c.stop)
	for range masters * (1 + replicas) {
		port := freePortPair(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("%s/nodes-%d.conf", dir, port),
			"--cluster-node-timeout", "1000", "--dir", dir, "--save", "", "--appendonly", "no",
			"--protected-mode", "no", "--daemonize", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c.nodes[addr] = cmd
		c.addrs = append(c.addrs, addr)
	}
	for _, addr := range c.addrs {
		c.waitNode(addr, func(n *redis.Client) bool { return n.Ping(context.Background()).Err() == nil })
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range c.addrs {
		c.waitNode(addr, func(n *redis.Client) bool {
			ctx := context.Background()
			info, err := n.ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
			repl, err := n.Info(ctx, "replication").Result()
			return err == nil && (strings.Contains(repl, "role:master") || strings.Contains(repl, "master_link_status:up"))
		})
	}
	return c
}

// freePortPair returns a free port whose cluster bus port (+10000) is free too.
func freePortPair(t testing.TB) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		l.Close()
		if err == nil {
			bus.Close()
			return port
		}
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// waitNode waits up to 20 s for ok to hold on the node at addr.
func (c *Cluster) waitNode(addr string, ok func(*redis.Client) bool) {
	c.t.Helper()
	n := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer n.Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok(n) {
			return
		}
	}
	c.t.Fatalf("redis cluster node %s not ready", addr)
}

// URL is the cluster's redis+cluster:// address, every node a seed.
func (c *Cluster) URL() string { return "redis+cluster://" + strings.Join(c.addrs, ",") }

// Kill kills the node at addr (SIGKILL), as a crash would.
func (c *Cluster) Kill(addr string) {
	c.t.Helper()
	cmd := c.nodes[addr]
	if cmd == nil {
		c.t.Fatalf("no running cluster node %s", addr)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	cmd.Wait()
	c.nodes[addr] = nil
}

// WaitPromoted waits until a node other than the killed one serves the
// slot of key as its master and a surviving node says the cluster is ok,
// and returns that node's address.
func (c *Cluster) WaitPromoted(key, killed string, within time.Duration) string {
	c.t.Helper()
	ctx := context.Background()
	n := c.liveNode()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		info, err := n.ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			continue
		}
		if m := slotMaster(ctx, n, key); m != "" && m != killed {
			return m
		}
	}
	c.t.Fatalf("no master for %s other than %s within %v", key, killed, within)
	return ""
}

// MasterOf is the address of the master serving key's slot now, as a
// running node sees it.
func (c *Cluster) MasterOf(key string) string {
	c.t.Helper()
	m := slotMaster(context.Background(), c.liveNode(), key)
	if m == "" {
		c.t.Fatalf("no master for %s", key)
	}
	return m
}

// liveNode is a client of a running node, closed when the test ends.
func (c *Cluster) liveNode() *redis.Client {
	c.t.Helper()
	for _, addr := range c.addrs {
		if c.nodes[addr] != nil {
			n := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
			c.t.Cleanup(func() { n.Close() })
			return n
		}
	}
	c.t.Fatal("no running cluster node")
	return nil
}

// slotMaster is the address node n gives as the master of key's slot, or "".
func slotMaster(ctx context.Context, n *redis.Client, key string) string {
	slot, err := n.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return ""
	}
	slots, err := n.ClusterSlots(ctx).Result()
	if err != nil {
		return ""
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr
		}
	}
	return ""
}

// stop kills every node still running, by its own pid.
func (c *Cluster) stop() {
	for addr, cmd := range c.nodes {
		if cmd != nil && cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		c.nodes[addr] = nil
	}
}

// Addrs are the nodes' addresses, killed ones included.
func (c *Cluster) Addrs() []string { return append([]string(nil), c.addrs...) }

// Keys lists the keys matching pattern on every running master (SCAN).
func (c *Cluster) Keys(pattern string) []string {
	c.t.Helper()
	ctx := context.Background()
	var out []string
	for _, addr := range c.addrs {
		if c.nodes[addr] == nil {
			continue
		}
		n := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		repl, err := n.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(repl, "role:master") {
			iter := n.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				out = append(out, iter.Val())
			}
			err = iter.Err()
		}
		n.Close()
		if err != nil {
			c.t.Fatalf("scan %s: %v", addr, err)
		}
	}
	return out
}
