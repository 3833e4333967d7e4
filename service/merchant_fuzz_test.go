package service

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/menqian/menqian/models"
)

// FuzzMerchantFields: the checks every shop passes through (the API, the
// console's forms and each row of an import) accept a shop only with a
// name, text of visible characters within its length, a valid phone and
// USCC or none, a status of active or closed, and coordinates on the globe;
// whatever they refuse is named by its field.
func FuzzMerchantFields(f *testing.F) {
	f.Add("张记烧烤", "91330100716105852F", "餐饮", "张三", "13853312345", "柳泉路 1 号", 36.81, 118.05, "active")
	f.Add(" 李记\u202e面馆 ", "", "", "", "0533-2345678", "", -90.0, 180.0, "closed")
	f.Add("王记", "9144030071526726xg", "零售", "王五\x1b", "1385331234", "共青团路\n9 号", 90.5, -180.5, "open")
	f.Add("赵记", "", "", "", "", "", math.NaN(), 118.05, "active")
	f.Add("钱记", "", "", "", "", "", 36.81, math.Inf(-1), "")
	f.Add("", "", strings.Repeat("类", 65), "", "", "", 0.0, 0.0, "active")
	f.Fuzz(func(t *testing.T, name, uscc, category, owner, phone, address string, lat, lng float64, status string) {
		in := MerchantInput{Name: &name, USCC: &uscc, Category: &category, OwnerName: &owner, Phone: &phone,
			Address: &address, Lat: &lat, Lng: &lng, Status: &status}
		fe, m, cols := fieldErrors{}, models.Merchant{}, map[string]any{}
		checkMerchantFields(fe, in, &m, cols, true)
		for field := range fe {
			if _, ok := cols[field]; !ok {
				t.Fatalf("refused %q, which is not a field given: %v", field, fe)
			}
		}
		if len(fe) > 0 {
			return
		}
		for _, tx := range []struct {
			field, got, in string
			max            int
		}{{"name", m.Name, name, 128}, {"category", m.Category, category, 64}, {"owner_name", m.OwnerName, owner, 64}, {"address", m.Address, address, 255}} {
			if r, hidden := hiddenRune(tx.got, false); tx.got != strings.TrimSpace(tx.in) || utf8.RuneCountInString(tx.got) > tx.max || !utf8.ValidString(tx.got) || hidden {
				t.Fatalf("%s %q accepted as %q (at most %d characters; hidden %U)", tx.field, tx.in, tx.got, tx.max, r)
			}
		}
		switch {
		case m.Name == "":
			t.Fatalf("a shop without a name accepted")
		case m.Phone != "" && !ValidPhone(m.Phone):
			t.Fatalf("phone %q accepted", m.Phone)
		case m.USCC != nil && !ValidUSCC(*m.USCC):
			t.Fatalf("USCC %q accepted", *m.USCC)
		case m.Status != "active" && m.Status != "closed":
			t.Fatalf("status %q accepted", m.Status)
		case m.Lat == nil || !(*m.Lat >= -90 && *m.Lat <= 90):
			t.Fatalf("latitude %v accepted", lat)
		case m.Lng == nil || !(*m.Lng >= -180 && *m.Lng <= 180):
			t.Fatalf("longitude %v accepted", lng)
		}
	})
}
