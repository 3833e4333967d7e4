package photostore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/photostore/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// impl is a store under test, with a way to put something beside the
// photos that is not one (a stray file, a temporary file, another object).
type impl struct {
	name string
	open func(t *testing.T) (photostore.Store, func(path string, data []byte))
}

func impls() []impl {
	return []impl{
		{name: "local", open: func(t *testing.T) (photostore.Store, func(string, []byte)) {
			dir := t.TempDir()
			return photostore.NewLocal(dir), func(path string, data []byte) {
				p := filepath.Join(dir, filepath.FromSlash(path))
				if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o640); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "s3", open: func(t *testing.T) (photostore.Store, func(string, []byte)) {
			srv := s3test.Shared(t)
			cfg := srv.Bucket(t)
			s, err := photostore.NewS3(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return s, func(path string, data []byte) { srv.PutObject(t, cfg, path, data) }
		}},
	}
}

func key(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func read(t *testing.T, s photostore.Store, k string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), k)
	if err != nil {
		t.Fatalf("open %s: %v", k, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", k, err)
	}
	return data
}

func list(t *testing.T, s photostore.Store) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	if err := s.List(context.Background(), func(k string, size int64) error {
		if _, dup := got[k]; dup {
			t.Errorf("List gave %s twice", k)
		}
		got[k] = size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStore is the contract of both stores: what is put is read back byte
// for byte (a large photo too, and from any offset), a key holds one
// object however often it is put, a missing key is ErrNotFound, a key that
// is not a SHA-256 is refused with nothing stored, and List gives the
// photos and nothing else.
func TestStore(t *testing.T) {
	ctx := context.Background()
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			s, plant := im.open(t)
			small := []byte("\x89PNG\r\n\x1a\n a small photo")
			large := randomBytes(6<<20+123, 7) // over the 5 MiB upload limit
			missing := key([]byte("never stored"))

			if _, err := s.Size(ctx, missing); !errors.Is(err, photostore.ErrNotFound) {
				t.Errorf("Size of a missing key: %v, want ErrNotFound", err)
			}
			if r, err := s.Open(ctx, missing); !errors.Is(err, photostore.ErrNotFound) {
				t.Errorf("Open of a missing key: %v, want ErrNotFound", err)
				if r != nil {
					r.Close()
				}
			}
			if got := list(t, s); len(got) != 0 {
				t.Errorf("empty store lists %v", got)
			}

			for _, data := range [][]byte{small, large} {
				k := key(data)
				if err := s.Put(ctx, k, data); err != nil {
					t.Fatalf("put %d bytes: %v", len(data), err)
				}
				if got := read(t, s, k); !bytes.Equal(got, data) {
					t.Errorf("read back %d bytes, want the %d put", len(got), len(data))
				}
				if n, err := s.Size(ctx, k); err != nil || n != int64(len(data)) {
					t.Errorf("Size = %d, %v; want %d", n, err, len(data))
				}
			}
			// Put again (another instance uploading the same photo): one object, unchanged.
			if err := s.Put(ctx, key(small), small); err != nil {
				t.Fatalf("second put: %v", err)
			}
			if got := read(t, s, key(small)); !bytes.Equal(got, small) {
				t.Errorf("after a second put: %q", got)
			}

			// Seeking, as serving a range request does.
			r, err := s.Open(ctx, key(large))
			if err != nil {
				t.Fatal(err)
			}
			if end, err := r.Seek(0, io.SeekEnd); err != nil || end != int64(len(large)) {
				t.Errorf("seek to end: %d, %v; want %d", end, err, len(large))
			}
			const off = 5<<20 + 17
			if _, err := r.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 1000)
			if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, large[off:off+1000]) {
				t.Errorf("1000 bytes at %d: %v, differ: %v", off, err, !bytes.Equal(part, large[off:off+1000]))
			}
			r.Close()

			// Keys are hashes, never paths.
			for _, bad := range []string{"", "../../etc/passwd", strings.ToUpper(key(small)), key(small)[:63], key(small) + "0", "ab/" + key(small)} {
				if err := s.Put(ctx, bad, small); err == nil {
					t.Errorf("Put(%q) accepted", bad)
				}
				if _, err := s.Open(ctx, bad); err == nil || errors.Is(err, photostore.ErrNotFound) {
					t.Errorf("Open(%q): %v, want a key error", bad, err)
				}
			}

			// Beside the photos: a file not named by a key, a photo's name
			// in the wrong directory, a temporary file of an interrupted write.
			plant("README.txt", []byte("not a photo"))
			plant("00/"+key(small), small)
			plant(key(large)[:2]+"/.upload-123", []byte("half a photo"))
			want := map[string]int64{key(small): int64(len(small)), key(large): int64(len(large))}
			if got := list(t, s); !maps(got, want) {
				t.Errorf("List = %v, want %v", got, want)
			}
			// List stops at fn's error and returns it.
			stop := errors.New("stop")
			n := 0
			if err := s.List(ctx, func(string, int64) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
				t.Errorf("List with a failing fn: %v after %d calls, want stop after 1", err, n)
			}
		})
	}
}

func maps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCopy: a local store copied into a bucket: every photo once, checked
// against its name; a damaged file is reported and not uploaded; a second
// run copies nothing; an object of the wrong size (a damaged upload by
// something else) is copied again.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	from := photostore.NewLocal(dir)
	srv := s3test.Shared(t)
	cfg := srv.Bucket(t)
	to, err := photostore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var photos [][]byte
	for i := range 12 {
		data := randomBytes(1000+i*5000, uint64(i))
		photos = append(photos, data)
		if err := from.Put(ctx, key(data), data); err != nil {
			t.Fatal(err)
		}
	}
	// One photo's file is damaged on disk: same name, other bytes.
	bad := key(photos[3])
	if err := os.WriteFile(filepath.Join(dir, bad[:2], bad), randomBytes(len(photos[3]), 99), 0o640); err != nil {
		t.Fatal(err)
	}
	var failed []string
	res, err := photostore.Copy(ctx, from, to, 3, func(k string, err error) {
		failed = append(failed, k+": "+err.Error())
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (photostore.CopyResult{Copied: 11, Failed: 1}); res != want {
		t.Errorf("first copy: %+v, want %+v", res, want)
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], bad+": damaged") {
		t.Errorf("failures %q, want %s damaged", failed, bad)
	}
	if _, err := to.Size(ctx, bad); !errors.Is(err, photostore.ErrNotFound) {
		t.Errorf("the damaged photo reached the bucket: %v", err)
	}
	for i, data := range photos {
		if i != 3 && !bytes.Equal(read(t, to, key(data)), data) {
			t.Errorf("photo %d differs in the bucket", i)
		}
	}

	// Again: nothing to copy; the damaged file still fails.
	failed = nil
	res, err = photostore.Copy(ctx, from, to, 3, func(k string, err error) { failed = append(failed, k) })
	if want := (photostore.CopyResult{Skipped: 11, Failed: 1}); err != nil || res != want || !slices.Equal(failed, []string{bad}) {
		t.Errorf("second copy: %+v %v, failed %v; want %+v and %s", res, err, failed, want, bad)
	}

	// An object cut short in the bucket is replaced.
	short := key(photos[5])
	srv.PutObject(t, cfg, short[:2]+"/"+short, photos[5][:100])
	if n, _ := to.Size(ctx, short); n != 100 {
		t.Fatalf("planted a short object of %d bytes", n)
	}
	res, err = photostore.Copy(ctx, from, to, 1, func(string, error) {})
	if want := (photostore.CopyResult{Copied: 1, Skipped: 10, Failed: 1}); err != nil || res != want {
		t.Errorf("after an object was cut short: %+v %v, want %+v", res, err, want)
	}
	if !bytes.Equal(read(t, to, short), photos[5]) {
		t.Error("the short object was not replaced by the photo")
	}
}
