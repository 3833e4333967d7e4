package service

import (
	"math"
	"testing"
	"time"

	"github.com/menqian/menqian/service/policy"
)

// TestInspectionPlaceChecked: an inspection's coordinates must be on the
// globe; NaN and the infinities, which a page form or a Go caller can pass
// (JSON cannot), are refused like any other number out of range.
func TestInspectionPlaceChecked(t *testing.T) {
	s := &Service{policy: policy.Default()}
	at := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		lat, lng float64
		refused  string // the field refused; "" none
	}{
		{36.81, 118.05, ""}, {-90, 180, ""}, {90, -180, ""},
		{math.NaN(), 118.05, "lat"}, {36.81, math.NaN(), "lng"},
		{math.Inf(1), 118.05, "lat"}, {36.81, math.Inf(-1), "lng"},
		{90.000001, 118.05, "lat"}, {36.81, -180.5, "lng"},
	} {
		in := InspectionInput{MerchantID: 1, Items: []InspectionItem{{RuleCode: "BONUS-01"}}, Lat: &c.lat, Lng: &c.lng}
		_, _, err := s.checkInspection(Actor{Role: RoleOfficer}, in, at, at)
		var fields map[string]string
		if e, ok := err.(*Error); ok {
			fields = e.Fields
		} else if err != nil {
			t.Fatalf("(%v, %v): %v", c.lat, c.lng, err)
		}
		if c.refused == "" && err != nil || c.refused != "" && (len(fields) != 1 || fields[c.refused] == "") {
			t.Errorf("(%v, %v): %v %v, want refused %q", c.lat, c.lng, err, fields, c.refused)
		}
	}
}
