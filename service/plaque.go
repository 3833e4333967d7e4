package service

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/policy"
)

// PlaqueMerchant returns a merchant whose plaque the actor may print: county
// admins and officers of its county, and the city admin.
func (s *Service) PlaqueMerchant(ctx context.Context, a Actor, id int64) (models.Merchant, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return models.Merchant{}, errForbidden
	}
	return s.Merchant(ctx, a, id)
}

// PlaquePNG renders the merchant's current plaque QR code.
func (s *Service) PlaquePNG(m models.Merchant, size int) ([]byte, error) {
	png, err := qrcodes.PNG(s.PlaqueURL(m), size)
	if errors.Is(err, qrcodes.ErrInvalidSize) {
		return nil, errPlaqueSize
	}
	return png, err
}

var errPlaqueSize = Invalid(map[string]string{"size": "应在 128 到 2048 像素之间"})

// ReissuePlaque bumps the plaque generation (county admin): the old plaque
// stops resolving and the new token is returned.
func (s *Service) ReissuePlaque(ctx context.Context, a Actor, id int64) (models.Merchant, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return models.Merchant{}, errForbidden
	}
	m, err := s.Merchant(ctx, a, id)
	if err != nil {
		return m, err
	}
	var gen int
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var err error
		if gen, err = s.db.BumpQRGeneration(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditPlaqueReissue, objectType: AuditObjectMerchant, objectID: m.ID,
			countyID: &m.CountyID, summary: merchantLabel(m),
			before: map[string]any{"qr_generation": gen - 1}, after: map[string]any{"qr_generation": gen}})
	})
	if err != nil {
		return m, storeErr(err, "商户")
	}
	s.profiles.forget(m.Code)
	m.QRGeneration = gen
	return m, nil
}

// Duties returns the 包 of the catalogue, the duties a shop front is held to:
// the categories of deduction items in catalogue order (bonus items are not a
// duty). Nothing here assumes there are five.
func (s *Service) Duties() []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range s.policy.Items {
		if it.Kind == policy.Deduction && !seen[it.Category] {
			seen[it.Category] = true
			out = append(out, it.Category)
		}
	}
	return out
}

// PublicProfile is what anyone scanning a plaque may see. It is built from
// named public fields only, so nothing private (owner, phone, USCC, address,
// photos, ids) can reach a public page by accident.
type PublicProfile struct {
	Code     string
	Name     string
	Category string
	Road     string
	County   string
	Phone    string // masked: 138****2345
	Score    policy.Result
	// History is the deductions and bonuses of the last months (never nil
	// in a profile ProfileByToken returns).
	History *PublicHistory

	// CountyID decides whether a logged-in caller may start an inspection
	// from the page; it is not published.
	CountyID int64
}

// ErrPlaqueReplaced marks a genuine plaque of an older generation.
var ErrPlaqueReplaced = errors.New("plaque replaced")

// errOldPlaque answers a genuine plaque of an older generation. The message
// does not name the shop: whoever holds a removed plaque learns nothing.
var errOldPlaque = &Error{Code: CodeNotFound, Message: "该门牌二维码已更换，请扫描新门牌", Err: ErrPlaqueReplaced}

// ProfileByToken resolves a scanned plaque. Forged tokens and closed shops are
// CodeNotFound; a replaced plaque is CodeNotFound wrapping ErrPlaqueReplaced.
//
// Profiles are kept in this process with the change version of their county
// (see countyview.go) they were read at, and answered from there while the
// county's version is unchanged: a scan after any change of the shop, its
// score, its road or county, or its plaque, on any instance, reads afresh.
func (s *Service) ProfileByToken(ctx context.Context, token string) (PublicProfile, error) {
	code, gen, err := s.parsePlaque(token)
	if err != nil {
		return PublicProfile{}, errNotFound
	}
	now := s.now()
	cycle := s.policy.CycleOf(now).String()
	versions, err := s.versions.read(ctx)
	if err != nil {
		return PublicProfile{}, err
	}
	if p, current, ok := s.profiles.get(code, cycle, versions, now); ok {
		switch {
		case gen == current:
			return p, nil
		case gen < current: // generations only grow: this plaque was replaced
			return PublicProfile{}, errOldPlaque
		}
	}
	// Concurrent scans of one plaque that found its county at one version
	// share one read (at 10 writes a second, every scan in flight would
	// otherwise read the shop again after each): what it reads is read after
	// that version, so it is fresh for each of them.
	// (The key holds the sum of every version, which any commit raises, and
	// the day, at whose start public entries expire.)
	var sum int64
	for _, v := range versions {
		sum += v
	}
	key := code + "@" + strconv.FormatInt(sum, 10) + "@" + cycle + "@" + publicDay(s.policy, now)
	v, err, _ := s.profileReads.Do(key, func() (any, error) {
		return s.readProfile(context.WithoutCancel(ctx), code, cycle, versions, now)
	})
	if err != nil {
		return PublicProfile{}, err
	}
	r := v.(profileRead)
	if r.gen != gen {
		return PublicProfile{}, errOldPlaque
	}
	if r.p == (PublicProfile{}) {
		return PublicProfile{}, errNotFound
	}
	return r.p, nil
}

// profileRead is a plaque's profile as read from the database, with the
// plaque generation it was read at; a closed shop has no profile.
type profileRead struct {
	p   PublicProfile
	gen int
}

// readProfile reads code's profile, with its public history at now, and
// keeps it under the version of its county in versions, which were read
// before it.
func (s *Service) readProfile(ctx context.Context, code, cycle string, versions map[int64]int64, now time.Time) (profileRead, error) {
	m, err := s.db.PublicMerchantByCode(ctx, code)
	if err != nil {
		return profileRead{}, storeErr(err, "商户")
	}
	if m.Status != "active" {
		return profileRead{gen: m.QRGeneration}, nil
	}
	st, err := s.CurrentScores(ctx, []models.Merchant{m.Merchant})
	if err != nil {
		return profileRead{}, err
	}
	h, err := s.publicHistory(ctx, m.ID, now)
	if err != nil {
		return profileRead{}, err
	}
	p := PublicProfile{Code: m.Code, Name: m.Name, Category: m.Category, Road: m.RoadName, County: m.CountyName,
		Phone: MaskPhone(m.Phone), Score: st[m.ID], History: h, CountyID: m.CountyID}
	if p.Score.Cycle == cycle {
		// versions were read before the shop: what was read is at least that new.
		p = s.profiles.put(code, m.QRGeneration, versions[m.CountyID], p)
	}
	return profileRead{p: p, gen: m.QRGeneration}, nil
}

// parsePlaque is s.plaques.Parse, remembering the tokens found valid (a
// token's code and generation never change; checking its signature is an
// HMAC per scan). At most maxCachedProfiles are remembered; past it, it
// starts over.
func (s *Service) parsePlaque(token string) (string, int, error) {
	s.parsedMu.RLock()
	p, ok := s.parsed[token]
	s.parsedMu.RUnlock()
	if ok {
		return p.code, p.gen, nil
	}
	code, gen, err := s.plaques.Parse(token)
	if err != nil {
		return "", 0, err
	}
	s.parsedMu.Lock()
	if len(s.parsed) >= maxCachedProfiles {
		clear(s.parsed)
	}
	s.parsed[token] = parsedPlaque{code, gen}
	s.parsedMu.Unlock()
	return code, gen, nil
}

type parsedPlaque struct {
	code string
	gen  int
}

// maxCachedProfiles bounds the cache: past it, it starts over.
const maxCachedProfiles = 50_000

// profileCache holds public profiles by merchant code, with the plaque
// generation and the county version they were read at. Entries also carry
// their cycle, so the month's turn is seen at once, and their history's
// expiry, so an entry leaves the plaque at its time without any write.
type profileCache struct {
	mu      sync.RWMutex
	entries map[string]cachedProfile
}

type cachedProfile struct {
	gen     int
	version int64
	p       PublicProfile
}

func newProfileCache() *profileCache {
	return &profileCache{entries: map[string]cachedProfile{}}
}

// get returns the cached profile of code in cycle, if its county is still at
// the version it was read at and no entry of its history has expired by
// now, and the generation it was read at.
func (c *profileCache) get(code, cycle string, versions map[int64]int64, now time.Time) (PublicProfile, int, bool) {
	c.mu.RLock()
	e, ok := c.entries[code]
	c.mu.RUnlock()
	if !ok || versions[e.p.CountyID] != e.version || e.p.Score.Cycle != cycle || !e.p.History.fresh(now) {
		return PublicProfile{}, 0, false
	}
	return e.p, e.gen, true
}

// put keeps p and returns it, with the history of the entry it replaces
// when that lists the same entries: profiles equal in content are then
// equal as values, so a plaque page kept for one is reused for the other.
func (c *profileCache) put(code string, gen int, version int64, p PublicProfile) PublicProfile {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[code]; ok && old.p.History.sameAs(p.History) {
		p.History = old.p.History
	}
	if len(c.entries) >= maxCachedProfiles {
		clear(c.entries)
	}
	c.entries[code] = cachedProfile{gen: gen, version: version, p: p}
	return p
}

// forget drops code's entry, so a reissue here takes effect at once.
func (c *profileCache) forget(code string) {
	c.mu.Lock()
	delete(c.entries, code)
	c.mu.Unlock()
}

// PlaqueSet is the active merchants of one county, or of one road of it,
// whose plaques an actor was allowed to print. Only CountyPlaques and
// RoadPlaques make one, so holding a PlaqueSet proves the check was done.
type PlaqueSet struct {
	County models.County
	Road   *models.Road // nil: the whole county
	Total  int64        // active merchants in the set
	filter models.PlaqueFilter
}

func canPrintPlaques(a Actor) bool { return a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) }

// CountyPlaques returns the plaque set of a county: for its county admins and
// officers and the city admin. Errors: CodeForbidden (merchant accounts),
// CodeNotFound (unknown county, or another county's).
func (s *Service) CountyPlaques(ctx context.Context, a Actor, countyID int64) (PlaqueSet, error) {
	if !canPrintPlaques(a) {
		return PlaqueSet{}, errForbidden
	}
	c, err := s.County(ctx, a, countyID)
	if err != nil {
		return PlaqueSet{}, err
	}
	return s.plaqueSet(ctx, c, nil)
}

// RoadPlaques returns the plaque set of a road, for the same callers as
// CountyPlaques and with the same errors.
func (s *Service) RoadPlaques(ctx context.Context, a Actor, roadID int64) (PlaqueSet, error) {
	if !canPrintPlaques(a) {
		return PlaqueSet{}, errForbidden
	}
	r, err := s.db.RoadByID(ctx, roadID)
	if err != nil {
		return PlaqueSet{}, storeErr(err, "道路")
	}
	c, err := s.County(ctx, a, r.CountyID)
	if err != nil {
		return PlaqueSet{}, err
	}
	return s.plaqueSet(ctx, c, &r)
}

func (s *Service) plaqueSet(ctx context.Context, c models.County, r *models.Road) (PlaqueSet, error) {
	set := PlaqueSet{County: c, Road: r, filter: models.PlaqueFilter{CountyID: c.ID}}
	if r != nil {
		set.filter.RoadID = r.ID
	}
	n, err := s.db.CountPlaques(ctx, set.filter)
	set.Total = n
	return set, err
}

// MaxSheetPlaques bounds one printable sheet, which inlines every image: 40
// A4 pages of 3×4 plaques. Larger sets are printed sheet by sheet (offset).
const MaxSheetPlaques = 480

// PrintedPlaque is one plaque of a print sheet.
type PrintedPlaque struct {
	Code string
	Name string
	Road string
	URL  string // what the QR code encodes
	PNG  []byte // the QR code at the sheet's size
}

// PlaqueSheet renders up to limit plaques of set (1..MaxSheetPlaques), by road
// and code from offset, each with its PNG at size.
func (s *Service) PlaqueSheet(ctx context.Context, set PlaqueSet, offset, limit, size int) ([]PrintedPlaque, error) {
	f := fieldErrors{}
	if limit < 1 || limit > MaxSheetPlaques {
		f.add("limit", "应在 1 到 "+itoa(MaxSheetPlaques)+" 之间")
	}
	if offset < 0 {
		f.add("offset", "应为非负整数")
	}
	if size < qrcodes.MinSize || size > qrcodes.MaxSize {
		return nil, errPlaqueSize
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	rows, err := s.db.ListPlaques(ctx, set.filter, offset, limit)
	if err != nil {
		return nil, err
	}
	out := make([]PrintedPlaque, len(rows))
	for i, r := range rows {
		url := qrcodes.PlaqueURL(s.publicURL, s.plaques.Token(r.Code, r.QRGeneration))
		png, err := qrcodes.PNG(url, size)
		if err != nil {
			return nil, err
		}
		out[i] = PrintedPlaque{Code: r.Code, Name: r.Name, Road: r.RoadName, URL: url, PNG: png}
	}
	return out, nil
}

// plaqueBatch is how many merchants a plaque ZIP reads per query.
const plaqueBatch = 500

// WritePlaqueZip streams the ZIP of set's plaques to w: one "<code>.png" per
// active merchant, in code order, at size pixels. Merchants are read in
// batches and rendered one at a time, so neither the archive nor the
// merchant list is ever whole in memory. progress, when not nil, is called
// with the number of entries written so far, before each entry and at the
// end. An error leaves the archive unfinished (see qrcodes.WriteZip).
func (s *Service) WritePlaqueZip(ctx context.Context, set PlaqueSet, w io.Writer, size int, progress func(done int)) (int, error) {
	if size < qrcodes.MinSize || size > qrcodes.MaxSize {
		return 0, errPlaqueSize
	}
	cur := s.db.Plaques(ctx, set.filter, plaqueBatch)
	done := 0
	n, err := qrcodes.WriteZip(w, size, func() (qrcodes.Plaque, bool, error) {
		if err := ctx.Err(); err != nil {
			return qrcodes.Plaque{}, false, err
		}
		if progress != nil {
			progress(done)
		}
		r, ok, err := cur.Next()
		if !ok || err != nil {
			return qrcodes.Plaque{}, ok, err
		}
		done++
		return qrcodes.Plaque{Code: r.Code, URL: qrcodes.PlaqueURL(s.publicURL, s.plaques.Token(r.Code, r.QRGeneration))}, true, nil
	})
	if err == nil && progress != nil {
		progress(n)
	}
	return n, err
}
