package photostore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Local keeps photos as files below a directory, dir/ab/abcdef…, the layout
// MENQIAN_PHOTO_DIR has always had.
type Local struct {
	dir string
}

// NewLocal returns the store of the photos below dir (created on the first
// Put when missing).
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// Dir is the store's directory.
func (l *Local) Dir() string { return l.dir }

func (l *Local) String() string { return "local:" + l.dir }

func (l *Local) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(objectPath(key)))
}

// Put writes the file through a temporary one renamed into place, so a
// reader never sees half a photo; an existing file is kept.
func (l *Local) Put(ctx context.Context, key string, data []byte) error {
	if !ValidKey(key) {
		return errKey(key)
	}
	path := l.path(key)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("photo dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return fmt.Errorf("photo temp: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("photo write: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("photo write: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("photo rename: %w", err)
	}
	return nil
}

// Open opens the photo's file.
func (l *Local) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if !ValidKey(key) {
		return nil, errKey(key)
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Size is the size of the photo's file.
func (l *Local) Size(ctx context.Context, key string) (int64, error) {
	if !ValidKey(key) {
		return 0, errKey(key)
	}
	fi, err := os.Stat(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// List walks the directory: every file named by a key in the directory of
// its first two characters (temporary files of interrupted writes and
// anything else kept there are not photos). A missing directory is an empty
// store.
func (l *Local) List(ctx context.Context, fn func(key string, size int64) error) error {
	shards, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, shard := range shards {
		if !shard.IsDir() || len(shard.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(l.dir, shard.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			key := f.Name()
			if !f.Type().IsRegular() || !ValidKey(key) || key[:2] != shard.Name() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			info, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := fn(key, info.Size()); err != nil {
				return err
			}
		}
	}
	return nil
}
