package qrcodes

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/skip2/go-qrcode"
)

// Plaque image sizes in pixels: MinSize still scans from a phone screen,
// MaxSize prints sharply on an A4 plaque, DefaultSize suits both.
const (
	MinSize     = 128
	MaxSize     = 2048
	DefaultSize = 512
)

// QuietZone is the white border, in modules, around every rendered code: the
// 4 modules ISO/IEC 18004 requires, which go-qrcode's Bitmap includes.
const QuietZone = 4

// ErrInvalidSize is returned by PNG and WriteZip for a size outside
// MinSize..MaxSize.
var ErrInvalidSize = fmt.Errorf("qrcodes: size must be between %d and %d pixels", MinSize, MaxSize)

// PNG renders content as a QR code at error correction level M. Each module is
// a whole number of pixels, the largest that fits in size, so the image is
// never resampled (a blurry edge between modules is what makes cheap scanners
// fail); the image is therefore square and at most size pixels wide: modules
// times the scale, quiet zone included. Only if a code has more modules than
// size pixels (not possible for plaque URLs) is it drawn at one pixel per
// module and wider than size.
func PNG(content string, size int) ([]byte, error) {
	if size < MinSize || size > MaxSize {
		return nil, ErrInvalidSize
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qrcodes: encode: %w", err)
	}
	bits := q.Bitmap() // includes the quiet zone: DisableBorder is false
	modules := len(bits)
	if modules == 0 {
		return nil, errors.New("qrcodes: empty bitmap")
	}
	scale := max(1, size/modules)
	width := modules * scale

	// Index 0 is white, so the zeroed Pix is already the quiet zone's colour,
	// and two colours let image/png write a 1-bit image.
	img := image.NewPaletted(image.Rect(0, 0, width, width), color.Palette{color.White, color.Black})
	for y, row := range bits {
		line := img.Pix[y*scale*img.Stride : y*scale*img.Stride+width]
		for x, dark := range row {
			if dark {
				for i := x * scale; i < (x+1)*scale; i++ {
					line[i] = 1
				}
			}
		}
		// The other scale-1 pixel rows of this module row are the same line.
		for r := 1; r < scale; r++ {
			off := (y*scale + r) * img.Stride
			copy(img.Pix[off:off+width], line)
		}
	}

	// Default compression: measured as fast as BestSpeed here (encoding the
	// symbol dominates) and a third of the bytes at MaxSize.
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qrcodes: png: %w", err)
	}
	return buf.Bytes(), nil
}

// Version returns the QR version (1..40) go-qrcode picks for content at level
// M, the one PNG renders. Plaque URLs are kept short so it stays low: fewer,
// larger modules scan from further away and from worn plaques.
func Version(content string) (int, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return 0, fmt.Errorf("qrcodes: encode: %w", err)
	}
	return q.VersionNumber, nil
}
