package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/menqian/menqian/models"
)

// phonePhoto is a JPEG like those the pages send: 1600×1200, shrunk on the
// phone, about 0.3 MB.
func phonePhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	x := uint32(7)
	for py := range 1200 {
		for px := range 1600 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			n := uint8(x & 15)
			img.Set(px, py, color.RGBA{uint8(px/7) + n, uint8(py/5) + n, uint8((px+py)/11) + n, 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

// withComment is the JPEG with a comment segment after its start marker:
// the same picture, other bytes (another SHA-256).
func withComment(photo []byte, n int64) []byte {
	com := fmt.Appendf(nil, "menqian bench %d", n)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xFE}, uint16(len(com)+2))
	out := append(append(append([]byte{}, photo[:2]...), seg...), com...)
	return append(out, photo[2:]...)
}

// BenchmarkPhotoStore measures what each photo store costs behind the API,
// 32 clients on SQLite: "serve" is GET /api/v1/photos/{id} of one 0.3 MB
// photo (the authorization, then the bytes from the store: a file, or a
// HEAD and a GET on the bucket), "upload" is POST /api/v1/photos of a new
// 0.3 MB photo each time (decoded in full, then put). s3 is a bucket on
// SeaweedFS on this machine, sharing its CPUs:
//
//	go test ./service/httpapi -run '^$' -bench PhotoStore -benchtime 5s
func BenchmarkPhotoStore(b *testing.B) {
	photo := phonePhoto()
	for _, ps := range photoStores {
		b.Run("serve/"+ps.name, func(b *testing.B) {
			e := newEnvOn(b, models.SQLite, nil, ps.open(b))
			w := e.seeded()
			r := e.postFile(w.Officer[0], "file", "p.jpg", "image/jpeg", photo)
			if r.Status != 201 {
				b.Fatalf("upload: %d %s", r.Status, r.Body)
			}
			url := e.srv.URL + "/api/v1/photos/" + itoa(r.id())
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchClients}}
			parallel(b, func(int64) error {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+w.Officer[0])
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || n != int64(len(photo)) {
					return fmt.Errorf("GET: %d, %d bytes", res.StatusCode, n)
				}
				return nil
			})
			b.SetBytes(int64(len(photo)))
		})
		b.Run("upload/"+ps.name, func(b *testing.B) {
			e := newEnvOn(b, models.SQLite, nil, ps.open(b))
			w := e.seeded()
			url := e.srv.URL + "/api/v1/photos"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchClients}}
			parallel(b, func(i int64) error {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("file", "p.jpg")
				fw.Write(withComment(photo, i))
				mw.Close()
				req, _ := http.NewRequest("POST", url, &body)
				req.Header.Set("Content-Type", mw.FormDataContentType())
				req.Header.Set("Authorization", "Bearer "+w.Officer[0])
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 201 {
					return fmt.Errorf("POST: %d", res.StatusCode)
				}
				return nil
			})
			b.SetBytes(int64(len(photo)))
		})
	}
}
