package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

type inspectionResponse struct {
	ID         int64         `json:"id"`
	MerchantID int64         `json:"merchant_id"`
	Delta      int           `json:"delta"`
	Score      scoreResponse `json:"score"`
}

func (a *API) createInspection(c *gin.Context) {
	var req service.InspectionInput
	if !a.bind(c, &req) {
		return
	}
	res, replayed, err := a.svc.RecordInspection(c.Request.Context(), actor(c), c.GetHeader("Idempotency-Key"), req)
	if err != nil {
		a.fail(c, err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, inspectionResponse{ID: res.ID, MerchantID: res.MerchantID, Delta: res.Delta, Score: toScore(res.Score)})
}
