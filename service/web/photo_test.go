package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestPhotoServedAsStored (issue 16, defect 6): the pages serve a photo under
// its stored type, with nosniff, and as the picture alone: an HTML page sent
// after a PNG's end was cut off at upload.
func TestPhotoServedAsStored(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			picture := tinyPNG(5)
			upload := append(bytes.Clone(picture), "<html><script>alert(document.cookie)</script></html>"...)
			ph, err := e.svc.UploadPhoto(context.Background(), w.Officer[0], bytes.NewReader(upload))
			if err != nil {
				t.Fatal(err)
			}
			p := e.signedIn(w.OfficerName[0]).get(fmt.Sprintf("/photos/%d", ph.ID))
			if p.Status != http.StatusOK || !bytes.Equal([]byte(p.Body), picture) {
				t.Errorf("photo: %d, %d bytes; want 200 and the PNG's %d bytes", p.Status, len(p.Body), len(picture))
			}
			if ct, ns := p.Header.Get("Content-Type"), p.Header.Get("X-Content-Type-Options"); ct != "image/png" || ns != "nosniff" {
				t.Errorf("photo served as %q, X-Content-Type-Options %q; want image/png and nosniff", ct, ns)
			}
		})
	}
}
