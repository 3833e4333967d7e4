package httpapi_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// tinyPNG is a valid 4×4 PNG; seed varies its bytes.
func tinyPNG(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(0, 0, color.RGBA{uint8(seed), 1, 2, 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}
