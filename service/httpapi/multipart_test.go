package httpapi_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
)

// newMultipart writes a form with one "file" part and returns its content type.
func newMultipart(buf *bytes.Buffer, data []byte) string {
	mw := multipart.NewWriter(buf)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType()
}

// tinyPNG is a valid 4×4 PNG; seed varies its bytes.
func tinyPNG(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(0, 0, color.RGBA{uint8(seed), 1, 2, 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}
