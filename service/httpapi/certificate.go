package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

// certificateResponse is a credit certificate (信用证明) as its merchant and
// the county's users see it.
type certificateResponse struct {
	ID         int64      `json:"id"`
	MerchantID int64      `json:"merchant_id"`
	Serial     string     `json:"serial"`
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Star       int        `json:"star"` // the rated star at issue
	Score      int        `json:"score"`
	Cycle      string     `json:"cycle"`
	IssuedAt   time.Time  `json:"issued_at"`
	Revoked    bool       `json:"revoked"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Token      string     `json:"token"`
	URL        string     `json:"url"` // what its QR code encodes: the public verification page
}

func toCertificate(v service.CertificateView) certificateResponse {
	return certificateResponse{ID: v.ID, MerchantID: v.MerchantID, Serial: v.Serial, Code: v.MerchantCode, Name: v.MerchantName,
		Star: v.Star, Score: v.Score, Cycle: v.Cycle, IssuedAt: v.IssuedAt, Revoked: v.Revoked(), RevokedAt: v.RevokedAt,
		Token: v.Token, URL: v.URL}
}

// issueCertificate: the merchant issues a certificate of its star and score now.
func (a *API) issueCertificate(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok || !a.noBody(c) {
		return
	}
	v, err := a.svc.IssueCertificate(c.Request.Context(), actor(c), id)
	respond(a, c, http.StatusCreated, toCertificate(v), err)
}

// listCertificates lists a merchant's certificates, newest first.
func (a *API) listCertificates(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	vs, err := a.svc.Certificates(c.Request.Context(), actor(c), id)
	out := make([]certificateResponse, len(vs))
	for i, v := range vs {
		out[i] = toCertificate(v)
	}
	respond(a, c, http.StatusOK, list[certificateResponse]{Items: out, Total: int64(len(out))}, err)
}

// verificationResponse is the public answer about an authentic
// certificate: what it said, and the shop's standing now. No ids.
type verificationResponse struct {
	Valid       bool `json:"valid"`
	Certificate struct {
		Serial   string    `json:"serial"`
		Code     string    `json:"code"`
		Name     string    `json:"name"`
		Star     int       `json:"star"`
		Score    int       `json:"score"`
		Cycle    string    `json:"cycle"`
		IssuedAt time.Time `json:"issued_at"`
	} `json:"certificate"`
	Now struct {
		Active    bool   `json:"active"` // false: the shop has closed
		RatedStar int    `json:"rated_star"`
		Score     int    `json:"score"`
		Cycle     string `json:"cycle"`
	} `json:"now"`
}

// verifyCertificate is public: 200 for an authentic certificate, 404
// not_found for a token not issued here or an altered certificate, 410
// revoked for a revoked one.
func (a *API) verifyCertificate(c *gin.Context) {
	v, err := a.svc.VerifyCertificate(c.Request.Context(), c.Param("token"))
	var out verificationResponse
	if err == nil {
		out.Valid = true
		cert := v.Certificate
		out.Certificate.Serial, out.Certificate.Code, out.Certificate.Name = cert.Serial, cert.MerchantCode, cert.MerchantName
		out.Certificate.Star, out.Certificate.Score, out.Certificate.Cycle, out.Certificate.IssuedAt = cert.Star, cert.Score, cert.Cycle, cert.IssuedAt
		out.Now.Active = v.Active
		if v.Active {
			out.Now.RatedStar, out.Now.Score, out.Now.Cycle = v.Now.RatedStar, v.Now.Score, v.Now.Cycle
		}
	}
	c.Header("Cache-Control", "no-cache")
	respond(a, c, http.StatusOK, out, err)
}
