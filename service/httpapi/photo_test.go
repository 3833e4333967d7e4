package httpapi_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/photostore/s3test"
)

// postFile uploads data as the multipart field with the given file name and
// declared content type (which the server must not trust).
func (e *env) postFile(token, field, name, ctype string, data []byte) resp {
	e.t.Helper()
	return e.postMultipart("/api/v1/photos", token, field, name, ctype, data)
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := range 16 {
		img.Set(x, x%12, color.RGBA{200, uint8(x * 10), 30, 255})
	}
	return img
}

func encodeJPEG() []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(), &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

func encodeGIF() []byte {
	var buf bytes.Buffer
	gif.Encode(&buf, testImage(), nil)
	return buf.Bytes()
}

// padded returns a valid JPEG grown to n bytes with data after its end marker
// (decoders stop at the marker; the size limit must not; what is stored is
// the JPEG alone).
func padded(n int) []byte {
	b := encodeJPEG()
	return append(b, make([]byte, n-len(b))...)
}

// photoStores are the stores the photo tests run on: a directory, and a
// bucket of the test's own on a real S3 server (SeaweedFS, s3test).
var photoStores = []struct {
	name string
	open func(t testing.TB) photostore.Store
}{
	{"local", func(t testing.TB) photostore.Store { return photostore.NewLocal(t.TempDir()) }},
	{"s3", func(t testing.TB) photostore.Store { return s3test.Shared(t).Store(t) }},
}

// TestPhotoUpload: JPEG and PNG are recognised by content, anything else is
// refused whatever its name, the size limit is 5 MiB, and the same bytes are
// stored once, in a directory or a bucket. (A merchant's uploads:
// TestMerchantPhotoUpload.)
func TestPhotoUpload(t *testing.T) { onEveryStore(t, testPhotoUpload) }

// onEveryStore runs test on each dialect with each photo store, as the
// subtest dialect/store.
func onEveryStore(t *testing.T, test func(*testing.T, models.Dialect, photostore.Store)) {
	for _, d := range dbtest.Dialects(t) {
		for _, ps := range photoStores {
			t.Run(string(d)+"/"+ps.name, func(t *testing.T) { test(t, d, ps.open(t)) })
		}
	}
}

func testPhotoUpload(t *testing.T, d models.Dialect, photos photostore.Store) {
	e := newEnvOn(t, d, nil, photos)
	w := e.seeded()
	off := w.Officer[0]

	jpg := e.postFile(off, "file", "IMG_0001.png", "image/png", encodeJPEG())
	if jpg.Status != 201 || jpg.JSON["content_type"] != "image/jpeg" || jpg.id() == 0 || len(jpg.JSON["sha256"].(string)) != 64 {
		t.Errorf("JPEG (named .png): %d %s", jpg.Status, jpg.Body)
	}
	png1 := e.postFile(off, "file", "evidence", "application/octet-stream", tinyPNG(42))
	if png1.Status != 201 || png1.JSON["content_type"] != "image/png" {
		t.Errorf("PNG: %d %s", png1.Status, png1.Body)
	}
	if r := e.postFile(off, "file", "max.jpg", "image/jpeg", padded(service.MaxPhotoBytes)); r.Status != 201 {
		t.Errorf("exactly 5 MiB: %d %s", r.Status, r.Body)
	}

	for _, c := range []struct {
		name   string
		token  string
		field  string
		file   string
		data   []byte
		status int
		code   string
	}{
		{"text named x.jpg", off, "file", "x.jpg", []byte("这不是图片，只是文字。\n"), 400, "invalid_input"},
		{"GIF", off, "file", "a.gif", encodeGIF(), 400, "invalid_input"},
		{"truncated PNG", off, "file", "a.png", tinyPNG(1)[:20], 400, "invalid_input"},
		{"empty file", off, "file", "a.jpg", nil, 400, "invalid_input"},
		{"one byte over 5 MiB", off, "file", "big.jpg", padded(service.MaxPhotoBytes + 1), 413, "payload_too_large"},
		{"far over 5 MiB", off, "file", "huge.jpg", padded(service.MaxPhotoBytes + 1<<20), 413, "payload_too_large"},
		{"wrong field", off, "photo", "a.png", tinyPNG(3), 400, "invalid_input"},
		{"GIF from a merchant", w.Shop[0], "file", "a.gif", encodeGIF(), 400, "invalid_input"},
		{"city admin (no county)", e.admin, "file", "a.png", tinyPNG(3), 403, "forbidden"},
		{"no login", "", "file", "a.png", tinyPNG(3), 401, "unauthorized"},
	} {
		before := e.snapshot()
		r := e.postFile(c.token, c.field, c.file, "image/jpeg", c.data)
		if r.Status != c.status || r.code() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
		if got := e.snapshot(); !reflect.DeepEqual(got, before) {
			t.Errorf("%s changed data: %v → %v", c.name, before, got)
		}
	}
	if r := e.do("POST", "/api/v1/photos", off, `{"file":"x"}`); r.Status != 400 {
		t.Errorf("JSON instead of multipart: %d %s", r.Status, r.Body)
	}

	// Content-addressed: the same bytes again (by another county even)
	// give the same sha256 and still one file on disk.
	again := e.postFile(off, "file", "copy.jpg", "image/jpeg", encodeJPEG())
	other := e.postFile(w.Officer[1], "file", "copy.jpg", "image/jpeg", encodeJPEG())
	if again.Status != 201 || other.Status != 201 || again.JSON["sha256"] != jpg.JSON["sha256"] || other.JSON["sha256"] != jpg.JSON["sha256"] {
		t.Fatalf("same bytes: %s / %s / %s", jpg.Body, again.Body, other.Body)
	}
	f, err := e.svc.Photo(context.Background(), service.Actor{UserID: w.OfficerID[0], Role: service.RoleOfficer, CountyID: w.County[0]}, again.id())
	if err != nil {
		t.Fatal(err)
	}
	files := e.storedFiles()
	if len(files) != 4 { // the two seed PNGs, tinyPNG(42), the JPEG (the padded JPEG is the JPEG: what followed its end was cut off)
		t.Errorf("files on disk: %v, want 4", files)
	}
	n := 0
	for _, name := range files {
		if name == jpg.JSON["sha256"] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d files named %v, want 1", n, jpg.JSON["sha256"])
	}
	if data := e.storedPhoto(f); !bytes.Equal(data, encodeJPEG()) {
		t.Errorf("stored file: %d bytes, want the JPEG's %d", len(data), len(encodeJPEG()))
	}
	// Each county's upload is its own evidence: the other county's copy
	// documents inspections there, not here.
	if r := e.inspect(w.Officer[0], "cross", inspection(w.Merchant[0], []int64{other.id()}, item("HJWS-01"))); r.Status != 400 {
		t.Errorf("other county's copy as evidence: %d %s", r.Status, r.Body)
	}
	e.must(201, "POST", "/api/v1/inspections", w.Officer[0], inspection(w.Merchant[0], []int64{again.id()}, item("HJWS-01")), "Idempotency-Key", "own")
	e.checkClean()
}

// TestMerchantPhotoUpload: a merchant uploads the photos of its appeals and
// fix reports. The photo belongs to its shop's county and is seen by itself,
// that county's officers and admins and the city admin; not by another
// merchant, even of the same county, nor by another county. The same with
// the photos in a bucket: the upload is the object under its SHA-256, read
// back from the bucket itself, and served only through the API with the
// same answers.
func TestMerchantPhotoUpload(t *testing.T) { onEveryStore(t, testMerchantPhotoUpload) }

func testMerchantPhotoUpload(t *testing.T, d models.Dialect, photos photostore.Store) {
	e := newEnvOn(t, d, nil, photos)
	w := e.seeded()
	neighbour := e.newMerchant(w.Admin[0], w.Road[0], "李记面馆")
	e.must(201, "POST", "/api/v1/users", w.Admin[0], map[string]any{"username": "shop_neighbour", "password": "password-neighbour",
		"role": "merchant", "merchant_id": neighbour})
	neighbourShop := e.login("shop_neighbour", "password-neighbour")

	before := e.count("photos", "1=1")
	r := e.postFile(w.Shop[0], "file", "门前已清理.jpg", "image/jpeg", encodeJPEG())
	if r.Status != 201 || r.id() == 0 || r.JSON["content_type"] != "image/jpeg" {
		t.Fatalf("merchant upload: %d %s, want 201", r.Status, r.Body)
	}
	if n := e.count("photos", "1=1"); n != before+1 {
		t.Errorf("photos %d → %d, want one more", before, n)
	}
	var county, by int64
	if err := e.db.SQL().QueryRow("SELECT county_id, uploaded_by FROM photos WHERE id = ?", r.id()).Scan(&county, &by); err != nil {
		t.Fatal(err)
	}
	var shopUser int64
	if err := e.db.SQL().QueryRow("SELECT id FROM users WHERE username = ?", "shop"+seedCounties[0][0]).Scan(&shopUser); err != nil {
		t.Fatal(err)
	}
	if county != w.County[0] || by != shopUser {
		t.Errorf("merchant's photo: county %d, uploaded by %d; want its shop's county %d and the merchant account %d", county, by, w.County[0], shopUser)
	}
	// In the store itself under its SHA-256, whatever the store.
	sha := r.JSON["sha256"].(string)
	if got := readStored(t, photos, sha); !bytes.Equal(got, encodeJPEG()) {
		t.Errorf("the store holds %d bytes under %s, want the upload's %d", len(got), sha, len(encodeJPEG()))
	}

	path := "/api/v1/photos/" + itoa(r.id())
	for _, c := range []struct {
		name, token string
		status      int
	}{
		{"the merchant itself", w.Shop[0], 200},
		{"officer of its county", w.Officer[0], 200},
		{"county admin of its county", w.Admin[0], 200},
		{"city admin", e.admin, 200},
		{"another merchant of the same county", neighbourShop, 404},
		{"merchant of the other county", w.Shop[1], 404},
		{"officer of the other county", w.Officer[1], 404},
		{"county admin of the other county", w.Admin[1], 404},
		{"no login", "", 401},
	} {
		got := e.do("GET", path, c.token, nil)
		if got.Status != c.status {
			t.Errorf("%s: status %d, want %d: %.200s", c.name, got.Status, c.status, got.Body)
		} else if c.status == 200 && !bytes.Equal(got.Body, encodeJPEG()) {
			t.Errorf("%s: the photo's bytes differ from the upload", c.name)
		}
	}
	// The other county's merchant uploads into its own county.
	r2 := e.postFile(w.Shop[1], "file", "a.png", "image/png", tinyPNG(77))
	if r2.Status != 201 {
		t.Fatalf("other county's merchant upload: %d %s", r2.Status, r2.Body)
	}
	if n := e.count("photos", "id = ? AND county_id = ?", r2.id(), w.County[1]); n != 1 {
		t.Errorf("other county's merchant's photo is not in its county %d", w.County[1])
	}
	if got := e.do("GET", "/api/v1/photos/"+itoa(r2.id()), w.Officer[0], nil); got.Status != 404 {
		t.Errorf("first county's officer sees the other county's merchant's photo: %d", got.Status)
	}
}

// TestPhotoStoreFails: while the bucket fails (here: it is gone), an
// upload is 503 with Retry-After and stores nothing, no row; a photo whose
// row is there but whose object is not (deleted, or its bucket gone) is a
// 500, logged, never another photo or an empty 200.
func TestPhotoStoreFails(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			srv := s3test.Shared(t)
			cfg := srv.Bucket(t)
			store, err := photostore.NewS3(cfg)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnvOn(t, d, nil, store)
			w := e.seeded()
			kept := e.postFile(w.Officer[0], "file", "a.jpg", "image/jpeg", encodeJPEG())
			lost := e.postFile(w.Officer[0], "file", "b.png", "image/png", tinyPNG(9))
			if kept.Status != 201 || lost.Status != 201 {
				t.Fatalf("uploads: %d %s / %d %s", kept.Status, kept.Body, lost.Status, lost.Body)
			}
			srv.RemoveObject(t, cfg, lost.JSON["sha256"].(string))
			if r := e.do("GET", "/api/v1/photos/"+itoa(lost.id()), w.Officer[0], nil); r.Status != 500 || r.code() != "internal" {
				t.Errorf("photo lost by the store: %d %s, want 500 internal", r.Status, r.Body)
			}
			if r := e.do("GET", "/api/v1/photos/"+itoa(kept.id()), w.Officer[0], nil); r.Status != 200 || !bytes.Equal(r.Body, encodeJPEG()) {
				t.Errorf("photo in the store: %d, %d bytes", r.Status, len(r.Body))
			}

			srv.RemoveBucket(t, cfg)
			before := e.snapshot()
			r := e.postFile(w.Officer[0], "file", "c.png", "image/png", tinyPNG(10))
			if r.Status != 503 || r.code() != "unavailable" || r.Header.Get("Retry-After") == "" {
				t.Errorf("upload with the bucket gone: %d %s (Retry-After %q), want 503 unavailable with Retry-After", r.Status, r.Body, r.Header.Get("Retry-After"))
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("a refused upload changed data: %v → %v", before, got)
			}
			// A HEAD of a missing bucket's object reads as a missing object:
			// lost like the one above.
			if r := e.do("GET", "/api/v1/photos/"+itoa(kept.id()), w.Officer[0], nil); r.Status != 500 {
				t.Errorf("photo with the bucket gone: %d %s, want 500", r.Status, r.Body)
			}
		})
	}
}

// readStored reads the object under key from the store itself, not
// through the service.
func readStored(t *testing.T, s photostore.Store, key string) []byte {
	t.Helper()
	rd, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("the store has no %s: %v", key, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// noisyImage is a w×h picture of pseudo-random pixels (they compress badly,
// so the picture's data is most of its file).
func noisyImage(w, h int, seed uint32) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	x := seed | 1
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = uint8(x)
	}
	return img
}

func pngOf(img image.Image) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func jpegOf(img image.Image) []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	return buf.Bytes()
}

// hugePNG is a w×h black-and-white PNG (1 bit a pixel) of zeros: a few KiB
// on the wire for any size.
func hugePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var out bytes.Buffer
	chunk := func(kind string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		io.WriteString(crc, kind)
		crc.Write(data)
		out.WriteString(kind)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(w)), uint32(h))
	chunk("IHDR", append(ihdr, 1, 0, 0, 0, 0)) // bit depth 1, grayscale
	var idat bytes.Buffer
	z, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	row := make([]byte, 1+(w+7)/8) // filter byte, then the row's bits
	for range h {
		z.Write(row)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// storedFiles names what the photo store holds: in a directory every file
// (a temporary one left behind too), in a bucket every photo.
func (e *env) storedFiles() []string {
	e.t.Helper()
	var names []string
	if local, ok := e.photos.(*photostore.Local); ok {
		err := filepath.WalkDir(local.Dir(), func(path string, de fs.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				names = append(names, filepath.Base(path))
			}
			return err
		})
		if err != nil {
			e.t.Fatal(err)
		}
		return names
	}
	err := e.photos.List(context.Background(), func(key string, _ int64) error {
		names = append(names, key)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return names
}

// storedPhoto is what the photo store keeps of f.
func (e *env) storedPhoto(f service.PhotoFile) []byte {
	e.t.Helper()
	r, err := f.Open(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return data
}

// TestPhotoContent (issue 16, defect 6): a photo is decoded in full before it
// is stored. Truncated or damaged pictures, and pictures of more than
// MaxPhotoPixels by their header (refused before decoding), are 400 on
// "file" with nothing stored, no row and no file; what follows a picture's
// end (an HTML page) is cut off, and the photo is stored and served as the
// picture alone, under its stored type and nosniff; ordinary photos,
// one with an Exif thumbnail (whose own end marker is inside a segment)
// among them, are stored byte for byte.
func TestPhotoContent(t *testing.T) {
	pngPhoto, jpegPhoto := pngOf(noisyImage(64, 48, 7)), jpegOf(noisyImage(64, 48, 9))
	html := []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n")
	// An Exif segment holding a JPEG thumbnail, end marker included, right
	// after the start of the image.
	thumb := jpegOf(noisyImage(8, 8, 3))
	app1 := append([]byte("Exif\x00\x00"), thumb...)
	withThumb := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}, app1...)
	withThumb = append(withThumb, jpegPhoto[2:]...)

	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := e.seeded()
			off := w.Officer[0]

			for _, c := range []struct {
				name string
				data []byte
				want string // in the field error
			}{
				{"PNG cut in its picture data", pngPhoto[:len(pngPhoto)/2], "图片不完整或已损坏"},
				{"PNG without its IEND chunk", pngPhoto[:len(pngPhoto)-12], "图片不完整或已损坏"},
				{"JPEG cut in its scan", jpegPhoto[:len(jpegPhoto)/2], "图片不完整或已损坏"},
				{"JPEG without its end marker", jpegPhoto[:len(jpegPhoto)-2], "图片不完整或已损坏"},
				{"PNG whose picture data is damaged", damaged(pngPhoto), "图片不完整或已损坏"},
				{"8944×8944 PNG (80 megapixels)", hugePNG(t, 8944, 8944), "图片尺寸 8944×8944 过大（最多 2400 万像素）"},
				{"one pixel over the limit", hugePNG(t, service.MaxPhotoPixels/4000+1, 4000), "过大"},
			} {
				before, files := e.snapshot(), len(e.storedFiles())
				r := e.postFile(off, "file", "photo.png", "image/png", c.data)
				fields, _ := r.JSON["error"].(map[string]any)["fields"].(map[string]any)
				if msg, _ := fields["file"].(string); r.Status != 400 || r.code() != "invalid_input" || !strings.Contains(msg, c.want) {
					t.Errorf("%s (%d bytes): %d %s, want 400 with file: %q", c.name, len(c.data), r.Status, r.Body, c.want)
				}
				if got := e.snapshot(); !reflect.DeepEqual(got, before) {
					t.Errorf("%s changed data: %v → %v", c.name, before, got)
				}
				if n := len(e.storedFiles()); n != files {
					t.Errorf("%s: %d files on disk, want %d", c.name, n, files)
				}
			}

			for _, c := range []struct {
				name, ctype string
				data, want  []byte
			}{
				{"PNG", "image/png", pngPhoto, pngPhoto},
				{"JPEG", "image/jpeg", jpegPhoto, jpegPhoto},
				{"JPEG with an Exif thumbnail", "image/jpeg", withThumb, withThumb},
				{"PNG with an HTML page after IEND", "image/png", append(slices.Clip(pngPhoto), html...), pngPhoto},
				{"JPEG with an HTML page after its end", "image/jpeg", append(slices.Clip(jpegPhoto), html...), jpegPhoto},
			} {
				r := e.postFile(off, "file", "photo", "application/octet-stream", c.data)
				sum := sha256.Sum256(c.want)
				if r.Status != 201 || r.JSON["content_type"] != c.ctype || r.JSON["sha256"] != hex.EncodeToString(sum[:]) ||
					r.JSON["size"] != float64(len(c.want)) {
					t.Errorf("%s: %d %s, want 201 %s of %d bytes", c.name, r.Status, r.Body, c.ctype, len(c.want))
					continue
				}
				var stored int64
				if err := e.db.SQL().QueryRow("SELECT size_bytes FROM photos WHERE id = ?", r.id()).Scan(&stored); err != nil || stored != int64(len(c.want)) {
					t.Errorf("%s: stored size %d (%v), want %d", c.name, stored, err, len(c.want))
				}
				got := e.do("GET", "/api/v1/photos/"+itoa(r.id()), off, nil)
				if got.Status != 200 || !bytes.Equal(got.Body, c.want) {
					t.Errorf("%s: served %d, %d bytes; want the picture's %d bytes", c.name, got.Status, len(got.Body), len(c.want))
				}
				if ct, ns := got.Header.Get("Content-Type"), got.Header.Get("X-Content-Type-Options"); ct != c.ctype || ns != "nosniff" {
					t.Errorf("%s: served as %q, X-Content-Type-Options %q; want %s and nosniff", c.name, ct, ns, c.ctype)
				}
			}
		})
	}
}

// damaged is a PNG with a byte of its picture data changed (its checksum
// then fails).
func damaged(p []byte) []byte {
	out := slices.Clone(p)
	i := bytes.Index(out, []byte("IDAT"))
	out[i+20] ^= 0xFF
	return out
}
