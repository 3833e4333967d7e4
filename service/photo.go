package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for content checks
	_ "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/menqian/menqian/models"
)

// MaxPhotoBytes bounds one evidence photo.
const MaxPhotoBytes = 5 << 20

// UploadPhoto stores an evidence photo, checked by content (JPEG or PNG with a
// readable header), under its SHA-256. Officers and admins of a county upload.
func (s *Service) UploadPhoto(ctx context.Context, a Actor, r io.Reader) (models.Photo, error) {
	if !a.can(RoleOfficer, RoleCountyAdmin) {
		return models.Photo{}, errForbidden
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxPhotoBytes+1))
	if err != nil {
		return models.Photo{}, Invalid(map[string]string{"file": "读取上传文件失败"})
	}
	if len(data) > MaxPhotoBytes {
		return models.Photo{}, Errorf(CodeTooLarge, "照片不能超过 5 MiB")
	}
	ct := http.DetectContentType(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return models.Photo{}, Invalid(map[string]string{"file": "仅支持 JPEG 或 PNG 图片"})
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > 80_000_000 {
		return models.Photo{}, Invalid(map[string]string{"file": "图片已损坏或尺寸异常"})
	}
	sum := sha256.Sum256(data)
	p := models.Photo{SHA256: hex.EncodeToString(sum[:]), ContentType: ct, SizeBytes: int64(len(data)),
		CountyID: a.CountyID, UploadedBy: a.UserID}
	if err := s.writePhotoFile(p.SHA256, data); err != nil {
		return models.Photo{}, err
	}
	return p, s.db.CreatePhoto(ctx, &p)
}

func (s *Service) photoPath(sha string) string {
	return filepath.Join(s.photoDir, sha[:2], sha)
}

// writePhotoFile writes content-addressed: same bytes, same file, written once.
func (s *Service) writePhotoFile(sha string, data []byte) error {
	path := s.photoPath(sha)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("photo dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return fmt.Errorf("photo temp: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("photo write: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// PhotoFile is a photo's content for download.
type PhotoFile struct {
	models.Photo
	Path string
}

// Photo returns a photo the actor may see: its uploader, admins and officers of
// its county, and the merchant whose inspection it documents.
func (s *Service) Photo(ctx context.Context, a Actor, id int64) (PhotoFile, error) {
	p, err := s.db.PhotoByID(ctx, id)
	if err != nil {
		return PhotoFile{}, storeErr(err, "照片")
	}
	ok := p.UploadedBy == a.UserID || a.IsCity() ||
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
	return PhotoFile{Photo: p, Path: s.photoPath(p.SHA256)}, nil
}

// photoOfMerchant reports whether photo id is evidence of one of the
// merchant's inspections or rectification notices.
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
