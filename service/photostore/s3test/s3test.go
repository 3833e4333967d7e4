// Package s3test starts a real S3-compatible server for tests: SeaweedFS's
// `weed mini` (master, volume server, filer and S3 gateway in one process)
// on free ports of 127.0.0.1, once per test binary, with a fresh bucket for
// each test that asks. It imports minio-go beside
// photostore only to create and empty those buckets.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/photostore"
)

// Version is the SeaweedFS module version the tests run against (the one
// .ci/run installs).
const Version = "v0.0.0-20261109003541-7506e5f91cd6"

// The server's one identity (its s3.config), an admin of every bucket.
const (
	AccessKey = "menqian-test"
	SecretKey = "menqian-test-secret-key"
)

// Server is a running SeaweedFS with its S3 gateway.
type Server struct {
	Endpoint string // host:port of the S3 API, plain http
	cmd      *exec.Cmd
	exited   chan struct{} // closed once weed has exited
	sockets  []string      // the Unix sockets weed makes in /tmp beside its gRPC ports
	dir      string
	log      *os.File
	client   *minio.Client
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Binary is the path of the weed binary: on PATH, else in $(go env
// GOPATH)/bin where `go install` (or .ci/run) put it; "" when neither has one.
func Binary() string {
	if p, err := exec.LookPath("weed"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = string(bytes.TrimSpace(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "weed")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// Shared returns the test binary's server, starting it on first use (about
// five seconds). Without the weed binary the test is skipped, or fails when
// MENQIAN_TEST_REQUIRE=1. Call Main from TestMain to stop it at the end.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv(dbtest.EnvRequire) == "1" {
			t.Fatalf("SeaweedFS's weed is required (MENQIAN_TEST_REQUIRE=1) but neither on PATH nor in $(go env GOPATH)/bin: see .ci/run")
		}
		t.Skip("SeaweedFS's weed not installed (see .ci/run)")
	}
	shared.once.Do(func() { shared.srv, shared.err = start(bin) })
	if shared.err != nil {
		t.Fatalf("starting SeaweedFS: %v", shared.err)
	}
	return shared.srv
}

// Main runs the tests and then stops the shared server, if one started.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with more to end: it runs the tests, stops the
// shared server and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.stop()
	}
	return code
}

// start runs weed mini with every port its own (none of its fixed
// defaults, so test binaries of several packages each run their own side by
// side) and waits until a bucket takes an object.
func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "menqian-s3test-")
	if err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]any{"identities": []any{map[string]any{
		"name":        "menqian",
		"credentials": []any{map[string]string{"accessKey": AccessKey, "secretKey": SecretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}})
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), cfg, 0o600); err != nil {
		return nil, err
	}
	ports, err := freePorts(10)
	if err != nil {
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	args := []string{"mini", "-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + p(0), "-master.port.grpc=" + p(1), "-master.telemetry=false",
		"-volume.port=" + p(2), "-volume.port.grpc=" + p(3),
		"-filer.port=" + p(4), "-filer.port.grpc=" + p(5), "-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		"-s3.port=" + p(6), "-s3.port.grpc=" + p(7), "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.localSocket=" + filepath.Join(dir, "s3.sock"),
		"-s3.config=" + filepath.Join(dir, "s3.json"), "-s3.autoCreateBucket=false",
		"-admin.ui=false", "-admin.port=" + p(8), "-admin.port.grpc=" + p(9), "-admin.port.legacy=0", "-webdav=false"}
	log, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		return nil, err
	}
	s := &Server{Endpoint: "127.0.0.1:" + p(6), dir: dir, log: log, exited: make(chan struct{})}
	for _, sock := range []struct{ name, port string }{{"master", p(1)}, {"volume", p(3)}, {"filer", p(5)}, {"s3", p(7)}, {"admin", p(9)}} {
		s.sockets = append(s.sockets, fmt.Sprintf("/tmp/seaweedfs-%s-grpc-%s.sock", sock.name, sock.port))
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = log, log
	// Stopped with the test binary even when it dies without running Main
	// (a test timeout): the death signal follows the thread that started
	// it, kept locked and alive here for the life of the process. SIGTERM:
	// weed then removes its sockets itself.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	started := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: this thread lives as long as the process
		started <- s.cmd.Start()
		select {}
	}()
	if err := <-started; err != nil {
		log.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	s.client, err = minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		s.stop()
		return nil, err
	}
	if err := s.waitReady(90 * time.Second); err != nil {
		out, _ := os.ReadFile(log.Name())
		s.stop()
		return nil, fmt.Errorf("%v; its log ends:\n%s", err, tail(out, 3000))
	}
	return s, nil
}

// waitReady polls until a probe bucket takes and returns an object: the
// S3 gateway answers before the volume server has joined the master.
func (s *Server) waitReady(within time.Duration) error {
	ctx := context.Background()
	var last error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-s.exited:
			return fmt.Errorf("weed exited: %v", s.cmd.ProcessState)
		default:
		}
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = s.probe(c)
		cancel()
		if last == nil {
			return nil
		}
	}
	return fmt.Errorf("S3 gateway at %s not ready within %v: %v", s.Endpoint, within, last)
}

func (s *Server) probe(ctx context.Context) error {
	const bucket = "menqian-probe"
	if ok, err := s.client.BucketExists(ctx, bucket); err != nil {
		return err
	} else if !ok {
		if err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			return err
		}
	}
	if _, err := s.client.PutObject(ctx, bucket, "probe", bytes.NewReader([]byte("ok")), 2, minio.PutObjectOptions{}); err != nil {
		return err
	}
	_, err := s.client.StatObject(ctx, bucket, "probe", minio.StatObjectOptions{})
	return err
}

func (s *Server) stop() {
	s.cmd.Process.Kill() // its own pid only
	<-s.exited
	for _, sock := range s.sockets {
		os.Remove(sock)
	}
	s.log.Close()
	os.RemoveAll(s.dir)
}

// Bucket creates a fresh, empty bucket for the test and returns the store
// configuration naming it (path-style over plain http, the server's
// credentials); the bucket and its objects are removed when the test ends.
func (s *Server) Bucket(t testing.TB) photostore.S3Config {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "mq-" + hex.EncodeToString(b)
	ctx := context.Background()
	if err := s.client.MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
	t.Cleanup(func() { s.removeBucket(name) })
	return photostore.S3Config{Bucket: name, Endpoint: s.Endpoint, Secure: false, PathStyle: true, AccessKey: AccessKey, SecretKey: SecretKey}
}

// Store is a photo store on a fresh bucket of the test's own.
func (s *Server) Store(t testing.TB) *photostore.S3 {
	t.Helper()
	st, err := photostore.NewS3(s.Bucket(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// URL is MENQIAN_PHOTO_STORE for the bucket c names.
func URL(c photostore.S3Config) string { return c.String() }

// Env is the environment that points menqian at the bucket c names:
// MENQIAN_PHOTO_STORE and the AWS_* credentials, as name, value pairs.
func Env(c photostore.S3Config) []string {
	return []string{"MENQIAN_PHOTO_STORE", c.String(), "AWS_ACCESS_KEY_ID", c.AccessKey, "AWS_SECRET_ACCESS_KEY", c.SecretKey}
}

// PutObject writes data at path in the bucket c names as it is, whatever
// the path (a stray object, a damaged copy of a photo).
func (s *Server) PutObject(t testing.TB, c photostore.S3Config, path string, data []byte) {
	t.Helper()
	if _, err := s.client.PutObject(context.Background(), c.Bucket, c.Prefix+path, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put %s: %v", path, err)
	}
}

// RemoveBucket removes the bucket c names and its objects now, as an
// operator's mistake or a lost bucket would.
func (s *Server) RemoveBucket(t testing.TB, c photostore.S3Config) {
	t.Helper()
	s.removeBucket(c.Bucket)
	if ok, err := s.client.BucketExists(context.Background(), c.Bucket); err != nil || ok {
		t.Fatalf("bucket %s still there (%v)", c.Bucket, err)
	}
}

// RemoveObject removes the object of key from the bucket c names.
func (s *Server) RemoveObject(t testing.TB, c photostore.S3Config, key string) {
	t.Helper()
	if err := s.client.RemoveObject(context.Background(), c.Bucket, c.Prefix+key[:2]+"/"+key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) removeBucket(name string) {
	ctx := context.Background()
	for obj := range s.client.ListObjects(ctx, name, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err == nil {
			s.client.RemoveObject(ctx, name, obj.Key, minio.RemoveObjectOptions{})
		}
	}
	s.client.RemoveBucket(ctx, name)
}

// freePorts returns n distinct free ports of 127.0.0.1 (each of SeaweedFS's
// servers listens on two: http and gRPC).
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
