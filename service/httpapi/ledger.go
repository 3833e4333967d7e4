package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

type ledgerResponse struct {
	ID           int64     `json:"id"`
	Cycle        string    `json:"cycle"`
	Kind         string    `json:"kind"`
	Points       int       `json:"points"`
	RuleCode     string    `json:"rule_code"`
	RuleName     string    `json:"rule_name"`
	Serious      bool      `json:"serious"`
	InspectionID *int64    `json:"inspection_id"`
	ReversesID   *int64    `json:"reverses_id,omitempty"`
	ReversedBy   *int64    `json:"reversed_by,omitempty"`
	AuthorID     int64     `json:"author_id"`
	Author       string    `json:"author"`
	Note         string    `json:"note,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	OccurredAt   time.Time `json:"occurred_at"`
	RecordedAt   time.Time `json:"recorded_at"`
	Photos       []int64   `json:"photos"`
	// CitizenPhotos are those of Photos a citizen took (a report's photo
	// made evidence when its case was handled).
	CitizenPhotos []int64    `json:"citizen_photos"`
	Appeal        *appealRef `json:"appeal,omitempty"`
	// Repair is how a deduction can be repaired (信用修复), served with it.
	Repair string `json:"repair,omitempty"`
}

type appealRef struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

func toLedger(v service.LedgerView) ledgerResponse {
	photos := v.Photos
	if photos == nil {
		photos = []int64{}
	}
	var ap *appealRef
	if v.Appeal != nil {
		ap = &appealRef{ID: v.Appeal.ID, Status: v.Appeal.Status}
	}
	return ledgerResponse{Appeal: ap, ID: v.ID, Cycle: v.Cycle, Kind: v.Kind, Points: v.Points, RuleCode: v.RuleCode, RuleName: v.RuleName,
		Serious: v.Serious, InspectionID: v.InspectionID, ReversesID: v.ReversesID, ReversedBy: v.ReversedBy, AuthorID: v.AuthorID,
		Author: v.AuthorName, Note: v.Note, Reason: v.Reason, OccurredAt: v.OccurredAt, RecordedAt: v.CreatedAt, Photos: photos,
		CitizenPhotos: citizenPhotos(photos, v.CitizenPhotos)}
}

type inspectionView struct {
	ID          int64     `json:"id"`
	MerchantID  int64     `json:"merchant_id"`
	OfficerID   int64     `json:"officer_id"`
	Officer     string    `json:"officer"`
	Cycle       string    `json:"cycle"`
	InspectedAt time.Time `json:"inspected_at"`
	RecordedAt  time.Time `json:"recorded_at"`
	Lat         *float64  `json:"lat"`
	Lng         *float64  `json:"lng"`
	Note        string    `json:"note"`
	Delta       int       `json:"delta"`
	Photos      []int64   `json:"photos"`
	// CitizenPhotos: see ledgerResponse.
	CitizenPhotos []int64          `json:"citizen_photos"`
	Items         []ledgerResponse `json:"items"`
}

func (a *API) listInspections(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	f := map[string]string{}
	p := paging(c, f)
	if !ok || !a.checkQuery(c, f) {
		return
	}
	ins, total, err := a.svc.Inspections(c.Request.Context(), actor(c), id, p)
	out := make([]inspectionView, len(ins))
	for i, in := range ins {
		items := make([]ledgerResponse, len(in.Entries))
		for j, e := range in.Entries {
			items[j] = toLedger(e)
		}
		out[i] = inspectionView{ID: in.ID, MerchantID: in.MerchantID, OfficerID: in.OfficerID, Officer: in.OfficerName,
			Cycle: in.Cycle, InspectedAt: in.InspectedAt, RecordedAt: in.CreatedAt, Lat: in.Lat, Lng: in.Lng, Note: in.Note,
			Delta: in.Delta, Photos: in.Photos, CitizenPhotos: citizenPhotos(in.Photos, in.CitizenPhotos), Items: items}
	}
	respond(a, c, http.StatusOK, list[inspectionView]{Items: out, Total: total, Limit: max(p.Limit, 20), Offset: p.Offset}, err)
}

type ledgerList struct {
	Items []ledgerResponse `json:"items"`
	Total int              `json:"total"`
	Cycle string           `json:"cycle"`
	Score scoreResponse    `json:"score"`
}

func (a *API) ledger(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	entries, score, err := a.svc.Ledger(c.Request.Context(), actor(c), id, c.Query("cycle"))
	out := make([]ledgerResponse, len(entries))
	for i, e := range entries {
		out[i] = toLedger(e)
		out[i].Repair = a.svc.RepairNotice(e.LedgerEntry)
	}
	respond(a, c, http.StatusOK, ledgerList{Items: out, Total: len(out), Cycle: score.Cycle, Score: toScore(score)}, err)
}

type reversalRequest struct {
	Reason string `json:"reason"`
}

type reversalResponse struct {
	Entry ledgerResponse `json:"entry"`
	Score scoreResponse  `json:"score"`
}

func (a *API) reverseEntry(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	entry, ok := a.idParam(c, "entry")
	var req reversalRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	v, score, err := a.svc.ReverseEntry(c.Request.Context(), actor(c), id, entry, req.Reason)
	respond(a, c, http.StatusCreated, reversalResponse{Entry: toLedger(v), Score: toScore(score)}, err)
}
