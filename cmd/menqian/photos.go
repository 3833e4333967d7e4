package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/menqian/menqian/service/photostore"
)

// openPhotos builds the photo store the configuration names: the bucket of
// MENQIAN_PHOTO_STORE, else the directory MENQIAN_PHOTO_DIR. It does not
// connect (checkPhotos does), so the commands that never touch a photo
// (check, close-cycle) do not depend on the store.
func openPhotos(cfg config) (photostore.Store, error) {
	if cfg.PhotoStore == "" {
		return photostore.NewLocal(cfg.PhotoDir), nil
	}
	s, err := photostore.NewS3(cfg.S3)
	if err != nil {
		return nil, fmt.Errorf("MENQIAN_PHOTO_STORE: %v", err)
	}
	return s, nil
}

// checkPhotos makes sure photos can be kept before a command that keeps
// them starts: the directory exists (created when missing), or the bucket
// answers and exists.
func (a *app) checkPhotos(ctx context.Context) error {
	switch s := a.photos.(type) {
	case *photostore.Local:
		if err := os.MkdirAll(s.Dir(), 0o750); err != nil {
			return fmt.Errorf("MENQIAN_PHOTO_DIR: %v", err)
		}
	case *photostore.S3:
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := s.Check(ctx); err != nil {
			return fmt.Errorf("MENQIAN_PHOTO_STORE: %v", err)
		}
	}
	return nil
}

func cmdPhotos(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("photos migrate", "Copy the photos of MENQIAN_PHOTO_DIR into the bucket of MENQIAN_PHOTO_STORE: each photo the bucket\n"+
		"lacks is read, checked against its name (the SHA-256 of its bytes) and uploaded in one request.\n"+
		"Photos the bucket has at the same size are skipped, so it is safe to run again, after an\n"+
		"interruption or while instances still write to the directory. Exits 1 when a photo could not\n"+
		"be copied (a damaged file, the bucket refusing it), after copying every other.", stdout)
	if len(args) == 0 || args[0] != "migrate" {
		fs.Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return nil
		}
		return errors.New("photos: want the subcommand migrate")
	}
	workers := fs.Int("workers", 4, "photos copied at once (1–64)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *workers < 1 || *workers > 64 {
		return errors.New("photos migrate: -workers must be between 1 and 64")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.PhotoStore == "" {
		return errors.New("photos migrate: MENQIAN_PHOTO_STORE is not set: name the bucket to copy MENQIAN_PHOTO_DIR into")
	}
	if _, err := os.Stat(cfg.PhotoDir); err != nil {
		return fmt.Errorf("photos migrate: MENQIAN_PHOTO_DIR: %v", err)
	}
	to, err := openPhotos(cfg)
	if err != nil {
		return err
	}
	a := &app{photos: to}
	if err := a.checkPhotos(ctx); err != nil {
		return err
	}
	from := photostore.NewLocal(cfg.PhotoDir)
	fmt.Fprintf(stdout, "copying %s into %s\n", from, to)
	start := time.Now()
	res, err := photostore.Copy(ctx, from, to, *workers, func(key string, err error) {
		fmt.Fprintf(stdout, "FAILED %s: %v\n", key, err)
	})
	fmt.Fprintf(stdout, "copied %d, skipped %d (already there), failed %d, in %s\n",
		res.Copied, res.Skipped, res.Failed, time.Since(start).Round(time.Millisecond))
	if err != nil {
		return fmt.Errorf("photos migrate: %v (run it again to copy the rest)", err)
	}
	if res.Failed > 0 {
		return fmt.Errorf("photos migrate: %d photo(s) not copied (listed above)", res.Failed)
	}
	return nil
}
