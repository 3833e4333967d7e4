package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

type photoResponse struct {
	ID          int64  `json:"id"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

func (a *API) uploadPhoto(c *gin.Context) {
	_, f, ok := a.formFile(c, service.MaxPhotoBytes, "照片（JPEG 或 PNG）")
	if !ok {
		return
	}
	defer f.Close()
	p, err := a.svc.UploadPhoto(c.Request.Context(), actor(c), f)
	respond(a, c, http.StatusCreated, photoResponse{ID: p.ID, SHA256: p.SHA256, ContentType: p.ContentType, Size: p.SizeBytes}, err)
}

func (a *API) getPhoto(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	p, err := a.svc.Photo(c.Request.Context(), actor(c), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	body, err := p.Open(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	defer body.Close()
	c.Header("Cache-Control", "private, max-age=86400, immutable")
	c.Header("Content-Type", p.ContentType)
	// The stored type, never sniffed: a photo kept before uploads were cut
	// at the picture's end may still carry HTML behind it.
	c.Header("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Writer, c.Request, "", p.CreatedAt, body)
}

// citizenPhotos lists the ids of photos that citizen marks (never null).
func citizenPhotos(photos []int64, citizen map[int64]bool) []int64 {
	out := []int64{}
	for _, id := range photos {
		if citizen[id] {
			out = append(out, id)
		}
	}
	return out
}
