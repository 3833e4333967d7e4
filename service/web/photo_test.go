package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/photostore/s3test"
)

// TestPhotoServedAsStored (issue 16, defect 6): the pages serve a photo under
// its stored type, with nosniff, and as the picture alone: an HTML page sent
// after a PNG's end was cut off at upload. The same from a bucket on a real
// S3 server, to the same users only.
func TestPhotoServedAsStored(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) photostore.Store
	}{
		{"local", func(t *testing.T) photostore.Store { return photostore.NewLocal(t.TempDir()) }},
		{"s3", func(t *testing.T) photostore.Store { return s3test.Shared(t).Store(t) }},
	}
	for _, d := range dbtest.Dialects(t) {
		for _, st := range stores {
			t.Run(string(d)+"/"+st.name, func(t *testing.T) { testPhotoServedAsStored(t, d, st.open(t)) })
		}
	}
}

func testPhotoServedAsStored(t *testing.T, d models.Dialect, photos photostore.Store) {
	e := newEnv(t, d, func(o *service.Options) { o.Photos = photos })
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
	if p := e.signedIn(w.OfficerName[1]).get(fmt.Sprintf("/photos/%d", ph.ID)); p.Status != http.StatusNotFound {
		t.Errorf("another county's officer opens the photo: %d, want 404", p.Status)
	}
}
