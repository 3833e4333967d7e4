package qrcodes

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"testing"

	"github.com/menqian/menqian/qrcodes/qrtest"
)

// testPublicURL is a plausible production base URL of exactly 30 characters,
// the length the design budgets for MENQIAN_PUBLIC_URL.
const testPublicURL = "https://mq.zibo.gov.cn:8443/ab"

func testPlaqueURL(t testing.TB, code string, generation int) string {
	t.Helper()
	return PlaqueURL(testPublicURL, testSigner().Token(code, generation))
}

// decodeQR decodes a PNG with ZXing, an independent decoder, and returns the
// image too for pixel checks.
func decodeQR(t *testing.T, data []byte) (string, image.Image) {
	t.Helper()
	text, img, err := qrtest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return text, img
}

func isDark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

func TestTestPublicURLLength(t *testing.T) {
	if got, want := len(testPublicURL), 30; got != want {
		t.Fatalf("len(testPublicURL) = %d, want %d", got, want)
	}
}

func TestPNG(t *testing.T) {
	url := testPlaqueURL(t, "K7M2Q9XW", 3)
	version, err := Version(url)
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	modules := 17 + 4*version + 2*QuietZone

	for _, size := range []int{MinSize, 300, DefaultSize, 1024, MaxSize} {
		t.Run(fmt.Sprint("size=", size), func(t *testing.T) {
			data, err := PNG(url, size)
			if err != nil {
				t.Fatalf("PNG: %v", err)
			}
			got, img := decodeQR(t, data)
			if got != url {
				t.Errorf("decoded %q, want %q", got, url)
			}

			b := img.Bounds()
			width := b.Dx()
			if b.Dy() != width {
				t.Fatalf("image is %dx%d, want square", width, b.Dy())
			}
			// The largest whole scale that fits: anything else is either
			// resampled (blurry) or needlessly small.
			scale := size / modules
			if want := modules * scale; width != want {
				t.Fatalf("width = %d, want %d modules x %d px = %d (size %d)", width, modules, scale, want, size)
			}
			if width > size {
				t.Errorf("width %d > size %d", width, size)
			}

			// Every module is one flat colour, so edges are sharp.
			for my := range modules {
				for mx := range modules {
					want := isDark(img.At(b.Min.X+mx*scale, b.Min.Y+my*scale))
					for y := my * scale; y < (my+1)*scale; y++ {
						for x := mx * scale; x < (mx+1)*scale; x++ {
							if isDark(img.At(b.Min.X+x, b.Min.Y+y)) != want {
								t.Fatalf("module (%d,%d) is not uniform at pixel (%d,%d)", mx, my, x, y)
							}
						}
					}
				}
			}

			// A white quiet zone of QuietZone modules on every side...
			q := QuietZone * scale
			for y := range width {
				for x := range width {
					inBorder := x < q || y < q || x >= width-q || y >= width-q
					if inBorder && isDark(img.At(b.Min.X+x, b.Min.Y+y)) {
						t.Fatalf("quiet zone pixel (%d,%d) is dark", x, y)
					}
				}
			}
			// ...and no more: the finder patterns start right after it.
			for _, p := range []image.Point{{q, q}, {width - q - 1, q}, {q, width - q - 1}} {
				if !isDark(img.At(b.Min.X+p.X, b.Min.Y+p.Y)) {
					t.Errorf("finder pattern corner pixel %v is light; quiet zone is wider than %d modules", p, QuietZone)
				}
			}
		})
	}
}

func TestPNGInvalidSize(t *testing.T) {
	for _, size := range []int{-1, 0, MinSize - 1, MaxSize + 1} {
		if _, err := PNG("https://example.com/q/X", size); !errors.Is(err, ErrInvalidSize) {
			t.Errorf("PNG(size %d) err = %v, want ErrInvalidSize", size, err)
		}
	}
}

// TestPlaqueVersion keeps plaque URLs at a low QR version: fewer, larger
// modules scan from further away and survive a worn plaque.
func TestPlaqueVersion(t *testing.T) {
	for _, gen := range []int{0, MaxGeneration} {
		url := testPlaqueURL(t, "ZZZZZZZZ", gen)
		if got, want := len(url), 30+3+TokenLen; got != want {
			t.Fatalf("len(%q) = %d, want %d", url, got, want)
		}
		got, err := Version(url)
		if err != nil {
			t.Fatalf("Version(%q): %v", url, err)
		}
		if got > 4 {
			t.Errorf("Version(%q) = %d, want <= 4", url, got)
		}
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		content string
		want    int
	}{
		{"HELLO", 1},
		// Level M byte-mode capacities: version 3 holds 42 bytes, 4 holds 62.
		{string(bytes.Repeat([]byte("a"), 42)), 3},
		{string(bytes.Repeat([]byte("a"), 43)), 4},
		{string(bytes.Repeat([]byte("a"), 62)), 4},
		{string(bytes.Repeat([]byte("a"), 63)), 5},
	}
	for _, tt := range tests {
		got, err := Version(tt.content)
		if err != nil || got != tt.want {
			t.Errorf("Version(%d chars) = %d, %v; want %d, nil", len(tt.content), got, err, tt.want)
		}
	}
}

func BenchmarkPNG(b *testing.B) {
	url := testPlaqueURL(b, "K7M2Q9XW", 3)
	for _, size := range []int{MinSize, DefaultSize, MaxSize} {
		b.Run(fmt.Sprint("size=", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := PNG(url, size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
