package photostore

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned for a key that holds no photo.
var ErrNotFound = errors.New("photo not in the store")

// Store keeps photos by key, the lowercase hex SHA-256 of their bytes
// (content-addressed: one key, one content, so a photo is never changed
// once stored).
type Store interface {
	// Put stores data under key, which must be the SHA-256 of data (the
	// caller computed it). Putting a key again is harmless: the content is
	// the same, and a store may keep the object it has.
	Put(ctx context.Context, key string, data []byte) error
	// Open returns the photo under key to read (and seek: serving answers
	// range requests); ErrNotFound when there is none. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Size returns the size of the photo under key; ErrNotFound when there
	// is none.
	Size(ctx context.Context, key string) (int64, error)
	// List calls fn with the key and size of every photo in the store, in no
	// particular order, until fn returns an error (which List returns).
	List(ctx context.Context, fn func(key string, size int64) error) error
	// String says where the photos are, without credentials (for logs).
	String() string
}

// ValidKey reports whether key is a lowercase hex SHA-256 (64 characters),
// the only keys a Store takes: never a path of its own.
func ValidKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// objectPath is where a key lives below a store's root, in both stores: in
// a directory named by its first two characters, as the local store has
// always kept them (256 directories, none too large to list).
func objectPath(key string) string { return key[:2] + "/" + key }

// errKey is the error for a key that is not a SHA-256.
func errKey(key string) error {
	return errors.New("photo key is not a hex SHA-256: " + truncate(key, 80))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
