package qrcodes

import (
	"archive/zip"
	"fmt"
	"io"
	"time"
)

// Plaque is one merchant's QR code to render: the merchant code names the
// file, the URL is what the code encodes.
type Plaque struct {
	Code, URL string
}

// WriteZip streams a ZIP archive to w with one "<code>.png" entry per plaque
// that next returns, rendered by PNG at size, until next reports no more
// (ok false). It renders one image at a time, so a whole county's plaques
// never sit in memory together. Entries are stored, not deflated: PNG data is
// already compressed.
//
// It returns how many entries it wrote. It stops at the first error, from next,
// from PNG, from w, or for a Plaque whose Code is not a valid code (which also
// keeps names like "../x" out of the archive), and then leaves the archive
// unfinished on purpose: a truncated download must fail to open rather than
// look like a complete set of plaques.
func WriteZip(w io.Writer, size int, next func() (Plaque, bool, error)) (int, error) {
	if size < MinSize || size > MaxSize {
		return 0, ErrInvalidSize
	}
	zw := zip.NewWriter(w)
	// One timestamp for the whole archive; a zero time would show as
	// 1980-00-00 in most unzip tools.
	now := time.Now()
	n := 0
	for {
		p, ok, err := next()
		if err != nil {
			return n, err
		}
		if !ok {
			break
		}
		if !ValidCode(p.Code) {
			return n, fmt.Errorf("qrcodes: zip entry for invalid code %q", p.Code)
		}
		img, err := PNG(p.URL, size)
		if err != nil {
			return n, fmt.Errorf("qrcodes: plaque %s: %w", p.Code, err)
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p.Code + ".png", Method: zip.Store, Modified: now})
		if err != nil {
			return n, fmt.Errorf("qrcodes: zip: %w", err)
		}
		if _, err := f.Write(img); err != nil {
			return n, fmt.Errorf("qrcodes: zip: %w", err)
		}
		n++
	}
	if err := zw.Close(); err != nil {
		return n, fmt.Errorf("qrcodes: zip: %w", err)
	}
	return n, nil
}
