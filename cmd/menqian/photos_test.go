package main

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
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/photostore/s3test"
)

func photoKey(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// migrateRun runs `menqian photos migrate` with env and returns its output.
func migrateRun(t *testing.T, env []string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), []string{"photos", "migrate", "-workers", "3"}, envOf(env...), &out, io.Discard)
	return out.String(), err
}

// TestPhotosMigrate: `menqian photos migrate` copies a photo directory into
// a bucket of a real S3 server: every photo, byte for byte, under the same
// key; run again it copies nothing; a damaged file (its bytes no longer
// hash to its name) is reported, not uploaded, and fails the command, which
// still copies every other photo; photos the bucket already holds from an
// interrupted run are skipped.
func TestPhotosMigrate(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Shared(t)
	cfg := srv.Bucket(t)
	bucket, err := photostore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	local := photostore.NewLocal(dir)
	rng := rand.New(rand.NewPCG(17, 1))
	var photos [][]byte
	for i := range 20 {
		data := make([]byte, 2000+rng.IntN(300_000))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		photos = append(photos, data)
		if err := local.Put(ctx, photoKey(data), data); err != nil {
			t.Fatal(err)
		}
		// An interrupted earlier run copied the first five.
		if i < 5 {
			if err := bucket.Put(ctx, photoKey(data), data); err != nil {
				t.Fatal(err)
			}
		}
	}
	// What is not a photo stays behind: a temporary file of an interrupted upload.
	if err := os.WriteFile(filepath.Join(dir, photoKey(photos[0])[:2], ".upload-42"), []byte("half"), 0o640); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"MENQIAN_PHOTO_DIR", dir}, s3test.Env(cfg)...)

	out, err := migrateRun(t, env)
	if err != nil || !strings.Contains(out, "copied 15, skipped 5 (already there), failed 0") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	for i, data := range photos {
		r, err := bucket.Open(ctx, photoKey(data))
		if err != nil {
			t.Fatalf("photo %d not in the bucket: %v", i, err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, data) {
			t.Errorf("photo %d: %d bytes in the bucket, want %d", i, len(got), len(data))
		}
	}

	out, err = migrateRun(t, env)
	if err != nil || !strings.Contains(out, "copied 0, skipped 20 (already there), failed 0") {
		t.Errorf("second run: %v\n%s", err, out)
	}

	// Two new photos, one of them damaged on disk.
	good, bad := []byte("a new photo taken after the first run"), []byte("a photo whose file was damaged")
	for _, data := range [][]byte{good, bad} {
		if err := local.Put(ctx, photoKey(data), data); err != nil {
			t.Fatal(err)
		}
	}
	badKey := photoKey(bad)
	if err := os.WriteFile(filepath.Join(dir, badKey[:2], badKey), []byte("a photo whose file was DAMAGED"), 0o640); err != nil {
		t.Fatal(err)
	}
	out, err = migrateRun(t, env)
	if err == nil || !strings.Contains(err.Error(), "1 photo(s) not copied") {
		t.Errorf("with a damaged file: err %v, want 1 photo not copied", err)
	}
	if !strings.Contains(out, "FAILED "+badKey+": damaged") || !strings.Contains(out, "copied 1, skipped 20 (already there), failed 1") {
		t.Errorf("with a damaged file:\n%s", out)
	}
	if _, err := bucket.Size(ctx, badKey); !errors.Is(err, photostore.ErrNotFound) {
		t.Errorf("the damaged photo is in the bucket (%v)", err)
	}
	if n, err := bucket.Size(ctx, photoKey(good)); err != nil || n != int64(len(good)) {
		t.Errorf("the good new photo: %d bytes, %v", n, err)
	}
	listed := 0
	bucket.List(ctx, func(string, int64) error { listed++; return nil })
	if listed != 21 {
		t.Errorf("the bucket holds %d photos, want 21 (nothing else)", listed)
	}
}

// TestPhotosMigrateRefuses: without a bucket to copy into, with a bucket
// that does not exist or a directory that does not, the command says so in
// one line and copies nothing.
func TestPhotosMigrateRefuses(t *testing.T) {
	srv := s3test.Shared(t)
	cfg := srv.Bucket(t)
	dir := t.TempDir()
	missing := cfg
	missing.Bucket = "menqian-no-such-bucket"
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"no store", []string{"MENQIAN_PHOTO_DIR", dir}, "MENQIAN_PHOTO_STORE is not set"},
		{"no credentials", []string{"MENQIAN_PHOTO_DIR", dir, "MENQIAN_PHOTO_STORE", cfg.String()}, "AWS_ACCESS_KEY_ID"},
		{"no bucket", append([]string{"MENQIAN_PHOTO_DIR", dir}, s3test.Env(missing)...), `bucket "menqian-no-such-bucket" does not exist`},
		{"no directory", append([]string{"MENQIAN_PHOTO_DIR", filepath.Join(dir, "nope")}, s3test.Env(cfg)...), "MENQIAN_PHOTO_DIR"},
	} {
		out, err := migrateRun(t, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), s3test.SecretKey) {
			t.Errorf("%s: %v (%s), want one line saying %q", c.name, err, out, c.want)
		}
	}
	if err := run(context.Background(), []string{"photos"}, envOf(), io.Discard, io.Discard); err == nil {
		t.Error("photos without a subcommand: no error")
	}
}

// TestServeRefusesPhotoStore: serve with a photo store it cannot use stops
// at start with one line naming MENQIAN_PHOTO_STORE: a bucket that does not
// exist, credentials the server does not know, a server that is not there.
func TestServeRefusesPhotoStore(t *testing.T) {
	srv := s3test.Shared(t)
	cfg := srv.Bucket(t)
	missing, wrong, nowhere := cfg, cfg, cfg
	missing.Bucket = "menqian-no-such-bucket"
	wrong.SecretKey = "hidden-wrong-secret"
	nowhere.Endpoint = freeAddr(t)
	for _, c := range []struct {
		name string
		cfg  photostore.S3Config
		want string
	}{
		{"missing bucket", missing, "does not exist"},
		{"wrong secret", wrong, cfg.String()},
		{"nothing listening", nowhere, nowhere.String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := append([]string{"MENQIAN_SQLITE_PATH", filepath.Join(t.TempDir(), "m.db"), "MENQIAN_ADDR", freeAddr(t)}, s3test.Env(c.cfg)...)
			done := make(chan error, 1)
			go func() { done <- run(context.Background(), []string{"serve"}, envOf(env...), io.Discard, io.Discard) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "MENQIAN_PHOTO_STORE") || !strings.Contains(err.Error(), c.want) ||
					strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "hidden-wrong-secret") {
					t.Errorf("err = %v, want one line naming MENQIAN_PHOTO_STORE and %q", err, c.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not give up within 30s")
			}
		})
	}
}
