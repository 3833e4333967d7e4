package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for content checks
	_ "image/png"
	"io"
	"net/http"
	"slices"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/photostore"
	"golang.org/x/sync/semaphore"
)

// MaxPhotoBytes bounds one evidence photo.
const MaxPhotoBytes = 5 << 20

// UploadPhoto stores an evidence photo, checked by content (checkPhoto),
// under its SHA-256. Officers and admins of a county upload evidence; a
// merchant uploads the photos of its appeals and of its reports that a
// notice was fixed (its own, seen by its county and itself).
func (s *Service) UploadPhoto(ctx context.Context, a Actor, r io.Reader) (models.Photo, error) {
	p, err := s.storePhoto(ctx, a, r)
	if err != nil {
		return models.Photo{}, err
	}
	return p, s.db.CreatePhoto(ctx, &p)
}

// storePhoto checks an upload and puts it in the photo store; its row, p,
// is the caller's to create.
func (s *Service) storePhoto(ctx context.Context, a Actor, r io.Reader) (models.Photo, error) {
	if !a.can(RoleOfficer, RoleCountyAdmin, RoleMerchant) {
		return models.Photo{}, errForbidden
	}
	county := a.CountyID
	if a.Role == RoleMerchant {
		m, err := s.Merchant(ctx, a, a.MerchantID)
		if err != nil {
			return models.Photo{}, err
		}
		county = m.CountyID
	}
	ph, err := checkPhoto(ctx, r, "file")
	if err != nil {
		return models.Photo{}, err
	}
	uploader := a.UserID
	p := ph.row(county, &uploader, models.PhotoFromAccount)
	if a.Role == RoleMerchant {
		shop := a.MerchantID
		p.MerchantID = &shop // a merchant photographs its own shop front only
	}
	return p, s.putPhoto(ctx, ph)
}

// checkedPhoto is an upload that passed checkPhoto, not stored yet.
type checkedPhoto struct {
	data        []byte
	sha256      string
	contentType string
}

// MaxPhotoPixels bounds a photo's width × height, checked from its header
// before it is decoded: 24 megapixels, a 24 MP camera's 6000×4000 and twice
// a phone's usual 12 MP original (the pages shrink photos to 1600 px, 2.6 MP,
// before sending them). Decoding one at the limit takes at most 96 MiB (8-bit
// RGBA; 192 MiB for a 16-bit PNG); an 8,944×8,944 PNG of 76 KiB would take
// 80 MiB (grey) to 320 MiB (RGBA).
const MaxPhotoPixels = 24_000_000

// errBrokenPhoto is the field error for a picture that is cut short or
// does not decode.
const errBrokenPhoto = "图片不完整或已损坏"

// checkPhoto reads an upload and checks it by content: at most
// MaxPhotoBytes (CodeTooLarge), a JPEG or PNG that ends where it should (its
// IEND chunk or EOI marker), whose header gives at most MaxPhotoPixels and
// which then decodes in full (a truncated or damaged picture does not):
// CodeInvalid on field otherwise. Whatever follows the picture's end (an
// HTML page, a ZIP) is cut off: the photo is stored as the picture's own
// bytes, not re-encoded, so evidence keeps what the camera wrote (its
// quality, its orientation tag, its hash). Every photo, an officer's or a
// citizen's, passes these same checks.
func checkPhoto(ctx context.Context, r io.Reader, field string) (checkedPhoto, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPhotoBytes+1))
	if err != nil {
		return checkedPhoto{}, Invalid(map[string]string{field: "读取上传文件失败"})
	}
	if len(data) > MaxPhotoBytes {
		return checkedPhoto{}, Errorf(CodeTooLarge, "照片不能超过 5 MiB")
	}
	ct := http.DetectContentType(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return checkedPhoto{}, Invalid(map[string]string{field: "仅支持 JPEG 或 PNG 图片"})
	}
	end, ok := pngEnd(data)
	if ct == "image/jpeg" {
		end, ok = jpegEnd(data)
	}
	if !ok {
		return checkedPhoto{}, Invalid(map[string]string{field: errBrokenPhoto})
	}
	data = data[:end]
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 {
		return checkedPhoto{}, Invalid(map[string]string{field: errBrokenPhoto})
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return checkedPhoto{}, Invalid(map[string]string{field: fmt.Sprintf("图片尺寸 %d×%d 过大（最多 %d 万像素）", cfg.Width, cfg.Height, MaxPhotoPixels/10_000)})
	}
	if err := decodeWithin(ctx, data, int64(cfg.Width)*int64(cfg.Height)); err != nil {
		if _, ok := err.(*Error); ok {
			return checkedPhoto{}, err
		}
		return checkedPhoto{}, Invalid(map[string]string{field: errBrokenPhoto})
	}
	sum := sha256.Sum256(data)
	return checkedPhoto{data: data, sha256: hex.EncodeToString(sum[:]), contentType: ct}, nil
}

// decodeBudget bounds the pixels being decoded at once in this process, so
// that a burst of large uploads cannot take the memory of one decode each
// (up to 96 MiB at MaxPhotoPixels): two photos at the limit, or a dozen of
// the pages' 1600 px ones, decode together; the others wait their turn, for
// as long as their request may.
var decodeBudget = semaphore.NewWeighted(2 * MaxPhotoPixels)

// decodeWithin decodes data in full, of pixels pixels, within decodeBudget;
// a caller whose context ends first (gone, or past its deadline) gets the
// service's 503 instead.
func decodeWithin(ctx context.Context, data []byte, pixels int64) error {
	if err := decodeBudget.Acquire(ctx, pixels); err != nil {
		return &Error{Code: CodeUnavailable, Message: "服务繁忙，请稍后重试", RetryAfter: deadlineRetryAfter, Err: err}
	}
	defer decodeBudget.Release(pixels)
	_, _, err := image.Decode(bytes.NewReader(data))
	return err
}

// pngEnd is the length of the PNG at the start of data: up to the end of its
// IEND chunk; false when its chunks do not parse up to one.
func pngEnd(data []byte) (int, bool) {
	end := 0
	ok := eachPNGChunk(data, func(kind string, start, next int) bool {
		end = next
		return kind != "IEND"
	})
	return end, ok && end > 0 && string(data[end-8:end-4]) == "IEND"
}

// eachPNGChunk calls fn with the type, start and end of each chunk after the
// signature, until fn returns false or data ends; false when a chunk runs
// past the end of data.
func eachPNGChunk(data []byte, fn func(kind string, start, next int) bool) bool {
	const sig = 8
	if len(data) < sig {
		return false
	}
	for i := sig; i < len(data); {
		if i+12 > len(data) {
			return false
		}
		n := int(binary.BigEndian.Uint32(data[i:]))
		next := i + 12 + n
		if n < 0 || next > len(data) || next < i {
			return false
		}
		if !fn(string(data[i+4:i+8]), i, next) {
			return true
		}
		i = next
	}
	return true
}

// jpegEnd is the length of the JPEG at the start of data: up to its EOI
// marker, found by walking its segments and the entropy-coded data of its
// scans (where 0xFF is followed by 0x00 or a restart marker); false when the
// segments do not parse up to an EOI.
func jpegEnd(data []byte) (int, bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, false
	}
	for i := 2; i+1 < len(data); {
		if data[i] != 0xFF {
			return 0, false
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD9:
			return i + 2, true
		case marker >= 0xD0 && marker <= 0xD7 || marker == 0x01: // no length
			i += 2
			continue
		}
		if i+4 > len(data) {
			return 0, false
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 || i+2+n > len(data) {
			return 0, false
		}
		i += 2 + n
		if marker != 0xDA {
			continue
		}
		for ; i+1 < len(data); i++ { // the scan's data, up to the next marker
			if data[i] == 0xFF && data[i+1] != 0x00 && (data[i+1] < 0xD0 || data[i+1] > 0xD7) {
				break
			}
		}
	}
	return 0, false
}

// row is the photo's database row.
func (ph checkedPhoto) row(county int64, uploader *int64, origin string) models.Photo {
	return models.Photo{SHA256: ph.sha256, ContentType: ph.contentType, SizeBytes: int64(len(ph.data)),
		CountyID: county, UploadedBy: uploader, Origin: origin}
}

// errPhotoStore is the answer while the photo store fails: the upload may
// be sent again (the officer's queue does so by itself).
func errPhotoStore(err error) error {
	return &Error{Code: CodeUnavailable, Message: "照片存储暂时不可用，请稍后重试", RetryAfter: 5, Err: err}
}

// putPhoto puts a checked photo in the store, content-addressed: the same
// bytes are one object, whoever uploads them.
func (s *Service) putPhoto(ctx context.Context, ph checkedPhoto) error {
	if err := s.photos.Put(ctx, ph.sha256, ph.data); err != nil {
		return errPhotoStore(err)
	}
	return nil
}

// PhotoFile is a photo the actor may see, to open for download.
type PhotoFile struct {
	models.Photo
	store photostore.Store
}

// Open returns the photo's bytes from the store; the caller closes them. A
// photo whose row is there but whose bytes are not is an internal error
// (the store lost it); a store that does not answer is CodeUnavailable.
func (f PhotoFile) Open(ctx context.Context) (io.ReadSeekCloser, error) {
	r, err := f.store.Open(ctx, f.SHA256)
	switch {
	case errors.Is(err, photostore.ErrNotFound):
		return nil, fmt.Errorf("photo %d (%s) is not in the photo store %s: %w", f.ID, f.SHA256, f.store, err)
	case err != nil:
		return nil, errPhotoStore(err)
	}
	return r, nil
}

// Photo returns a photo the actor may see: its uploader, admins and officers of
// its county (the city admin: every county), and the merchant whose
// inspection or notice it documents. A citizen's photo has no uploader: the
// county office sees it with the case, the merchant only once it became
// evidence of one of its inspections, the public never.
func (s *Service) Photo(ctx context.Context, a Actor, id int64) (PhotoFile, error) {
	p, err := s.db.PhotoByID(ctx, id)
	if err != nil {
		return PhotoFile{}, storeErr(err, "照片")
	}
	ok := (p.UploadedBy != nil && *p.UploadedBy == a.UserID && a.UserID != 0) || a.IsCity() ||
		(a.can(RoleCountyAdmin, RoleOfficer) && a.CountyID == p.CountyID)
	if !ok && a.Role == RoleMerchant {
		ok, err = s.photoOfMerchant(ctx, a.MerchantID, id)
		if err != nil {
			return PhotoFile{}, err
		}
	}
	if !ok {
		return PhotoFile{}, errNotFound
	}
	return PhotoFile{Photo: p, store: s.photos}, nil
}

// photoOfMerchant reports whether photo id is evidence of one of the
// merchant's inspections or rectification notices (the merchant's own
// photos it sees as their uploader).
func (s *Service) photoOfMerchant(ctx context.Context, merchantID, id int64) (bool, error) {
	ins, _, err := s.db.ListInspections(ctx, merchantID, 10_000, 0)
	if err != nil {
		return false, err
	}
	notices, _, err := s.db.NoticesOf(ctx, merchantID, 10_000, 0)
	if err != nil {
		return false, err
	}
	lists := make([]string, 0, len(ins)+len(notices))
	for _, in := range ins {
		lists = append(lists, in.PhotoIDs)
	}
	for _, n := range notices {
		lists = append(lists, n.PhotoIDs)
	}
	for _, l := range lists {
		if slices.Contains(parseIDs(l), id) {
			return true, nil
		}
	}
	return false, nil
}

// errPhotoOfOtherShop is the field error for a photo that is already
// evidence of another shop.
const errPhotoOfOtherShop = "照片已是其他商户的证据，不能用于本商户"

// bindEvidence records, in evidence (read under lock by
// models.LockEvidencePhotos), that the photos ids are now evidence of
// merchantID, and adds those this use binds for the first time to bind, for
// models.BindPhotos. A later use in the same transaction for another shop
// then counts them as elsewhere (models.RecordLock.CountPhotos).
func bindEvidence(evidence map[int64]models.EvidencePhoto, merchantID int64, ids []int64, bind map[int64]int64) {
	for _, id := range ids {
		if p, ok := evidence[id]; ok && p.MerchantID == nil {
			p.MerchantID = &merchantID
			evidence[id] = p
			bind[id] = merchantID
		}
	}
}

// MaxMerchantPhotos bounds the photos of one appeal or fix report.
const MaxMerchantPhotos = 3

// ownPhotos checks that ids are at most MaxMerchantPhotos photos the actor
// uploaded itself (so a merchant cannot attach another's evidence).
func (s *Service) ownPhotos(ctx context.Context, a Actor, field string, ids []int64) (string, error) {
	if len(ids) == 0 {
		return "", nil
	}
	if len(ids) > MaxMerchantPhotos {
		return "", Invalid(map[string]string{field: fmt.Sprintf("最多 %d 张照片", MaxMerchantPhotos)})
	}
	ps, err := s.db.PhotosByIDs(ctx, ids)
	if err != nil {
		return "", err
	}
	mine, elsewhere := map[int64]bool{}, false
	for _, p := range ps {
		mine[p.ID] = p.UploadedBy != nil && *p.UploadedBy == a.UserID
		elsewhere = elsewhere || (p.MerchantID != nil && *p.MerchantID != a.MerchantID)
	}
	for _, id := range ids {
		if !mine[id] {
			return "", Invalid(map[string]string{field: "照片不存在或不是本账号上传的"})
		}
	}
	if elsewhere {
		return "", Invalid(map[string]string{field: errPhotoOfOtherShop})
	}
	return formatIDs(ids), nil
}

// WithUploads stores photos and runs fn with their ids in one transaction, so
// a form whose photos are stored but whose request is then refused (an
// appeal too late, a notice without a subject) keeps no photo row. The
// photos are checked and put in the photo store before the transaction
// begins, so no transaction waits on the store; the content-addressed
// objects of a refused form stay in the store, unreferenced, as after any
// interrupted upload.
func (s *Service) WithUploads(ctx context.Context, a Actor, photos []io.Reader, fn func(ctx context.Context, ids []int64) error) error {
	rows := make([]models.Photo, 0, len(photos))
	for _, r := range photos {
		p, err := s.storePhoto(ctx, a, r)
		if err != nil {
			return err
		}
		rows = append(rows, p)
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		ids := make([]int64, 0, len(rows))
		for _, p := range rows {
			if err := s.db.CreatePhoto(ctx, &p); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		return fn(ctx, ids)
	})
}

// citizenPhotos returns which evidence photos of the inspections are
// citizens' (one query, none when the inspections have no photos).
func (s *Service) citizenPhotos(ctx context.Context, ins []models.Inspection) (map[int64]bool, error) {
	var ids []int64
	for _, in := range ins {
		ids = append(ids, parseIDs(in.PhotoIDs)...)
	}
	return s.db.CitizenPhotos(ctx, ids)
}

// withoutMetadata is the photo without what a phone writes beside the
// picture: in a JPEG the APP1 (Exif, XMP: place, time, phone), APP13 (IPTC)
// and comment segments, in a PNG the text, Exif and time chunks. A citizen's
// photo may be shown to the merchant; nothing in it may tell who took it or
// from where. (Photos the page shrank have none already: the canvas writes
// none.) The pixels are not decoded or changed.
func (ph checkedPhoto) withoutMetadata(field string) (checkedPhoto, error) {
	var out []byte
	var ok bool
	switch ph.contentType {
	case "image/jpeg":
		out, ok = jpegWithoutMetadata(ph.data)
	case "image/png":
		out, ok = pngWithoutMetadata(ph.data)
	}
	if !ok {
		return checkedPhoto{}, Invalid(map[string]string{field: errBrokenPhoto})
	}
	sum := sha256.Sum256(out)
	return checkedPhoto{data: out, sha256: hex.EncodeToString(sum[:]), contentType: ph.contentType}, nil
}

// jpegWithoutMetadata drops the APP1, APP13 and COM segments before the
// scan; false when the segments before it do not parse.
func jpegWithoutMetadata(data []byte) ([]byte, bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, false
	}
	out := append(make([]byte, 0, len(data)), data[:2]...)
	for i := 2; ; {
		if i+4 > len(data) || data[i] != 0xFF {
			return nil, false
		}
		marker := data[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xDA { // start of scan: the picture, kept as it is
			return append(out, data[i:]...), true
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 || i+2+n > len(data) {
			return nil, false
		}
		if marker != 0xE1 && marker != 0xED && marker != 0xFE {
			out = append(out, data[i:i+2+n]...)
		}
		i += 2 + n
	}
}

// pngWithoutMetadata drops the tEXt, zTXt, iTXt, eXIf and tIME chunks;
// false when the chunks do not parse.
func pngWithoutMetadata(data []byte) ([]byte, bool) {
	out := append(make([]byte, 0, len(data)), data[:min(len(data), 8)]...)
	ok := eachPNGChunk(data, func(kind string, start, next int) bool {
		switch kind {
		case "tEXt", "zTXt", "iTXt", "eXIf", "tIME":
		default:
			out = append(out, data[start:next]...)
		}
		return true
	})
	return out, ok
}
