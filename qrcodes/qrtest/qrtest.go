// Package qrtest reads plaque QR codes back in tests with ZXing's Go port, a
// decoder no one here wrote, so a test proves what a phone would scan.
package qrtest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

var pureBarcode = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}

// DecodeImage returns the text of the QR code in img.
func DecodeImage(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("qrtest: bitmap: %w", err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		// ZXing's finder-pattern search misses about 1 in 300 valid symbols
		// (zbarimg reads every one of them). Plaques are pure, upright codes,
		// so read the modules directly rather than flake.
		res, err = zxingqr.NewQRCodeReader().Decode(bmp, pureBarcode)
	}
	if err != nil {
		return "", fmt.Errorf("qrtest: decode: %w", err)
	}
	return res.GetText(), nil
}

// Decode returns the text of the QR code in a PNG.
func Decode(data []byte) (string, image.Image, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return "", nil, fmt.Errorf("qrtest: png: %w", err)
	}
	text, err := DecodeImage(img)
	return text, img, err
}
