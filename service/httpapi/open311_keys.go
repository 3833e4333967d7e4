package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
)

// The city admin's Open311 api keys: issued (the key is in this one answer
// only), listed without the keys, revoked at once.

type open311Key struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Key       string     `json:"key,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func toOpen311Key(k models.Open311Key, key string) open311Key {
	return open311Key{ID: k.ID, Name: k.Name, Key: key, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

func (a *API) issueOpen311Key(c *gin.Context) {
	var req struct {
		Name string `json:"name"`
	}
	if !a.bind(c, &req) {
		return
	}
	key, k, err := a.svc.IssueOpen311Key(c.Request.Context(), actor(c), req.Name)
	c.Header("Cache-Control", "no-store") // the key is shown once
	respond(a, c, http.StatusCreated, toOpen311Key(k, key), err)
}

func (a *API) listOpen311Keys(c *gin.Context) {
	ks, err := a.svc.Open311Keys(c.Request.Context(), actor(c))
	out := make([]open311Key, len(ks))
	for i, k := range ks {
		out[i] = toOpen311Key(k, "")
	}
	respond(a, c, http.StatusOK, gin.H{"keys": out}, err)
}

func (a *API) revokeOpen311Key(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok || !a.noBody(c) {
		return
	}
	if err := a.svc.RevokeOpen311Key(c.Request.Context(), actor(c), id); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
