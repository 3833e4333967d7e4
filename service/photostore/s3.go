package photostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Config is an S3-compatible bucket: where (MENQIAN_PHOTO_STORE, read by
// ParseS3URL) and with which credentials (the AWS_* variables).
type S3Config struct {
	Bucket    string
	Prefix    string // key prefix inside the bucket: empty or ending in "/"
	Endpoint  string // host[:port] of the S3 API
	Region    string // empty: the endpoint's default
	Secure    bool   // https
	PathStyle bool   // http://endpoint/bucket/key rather than http://bucket.endpoint/key

	AccessKey, SecretKey, SessionToken string
}

// awsEndpoint is the endpoint when the URL names none: Amazon S3 itself
// (minio-go picks the region's host).
const awsEndpoint = "s3.amazonaws.com"

// ParseS3URL reads a photo store URL,
//
//	s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=REGION&secure=false&path_style=true
//
// endpoint: the S3 API's host[:port] (default Amazon S3); region: the
// bucket's region (default: the endpoint's own, us-east-1 for most
// S3-compatible servers); secure: https (default true); path_style: the
// bucket in the path rather than the host name (default true with an
// endpoint, as SeaweedFS, MinIO, Ceph RGW and most servers on an address
// without wildcard DNS need; false on Amazon S3). PREFIX puts the photos
// below that path in the bucket. Credentials are never part of the URL.
func ParseS3URL(raw string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return S3Config{}, errors.New("want s3://bucket?endpoint=host:port (not a URL)")
	}
	if u.Scheme != "s3" {
		return S3Config{}, fmt.Errorf("want s3://bucket?endpoint=host:port, not a %q URL", u.Scheme)
	}
	if u.User != nil {
		return S3Config{}, errors.New("credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	c := S3Config{Bucket: u.Host, Endpoint: awsEndpoint, Secure: true}
	if c.Bucket == "" {
		return S3Config{}, errors.New("no bucket (want s3://bucket?endpoint=host:port)")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return S3Config{}, fmt.Errorf("bucket %q: %v", c.Bucket, err)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		c.Prefix = p + "/"
	}
	q := u.Query()
	pathStyle := ""
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "endpoint":
			host, port, err := net.SplitHostPort(v)
			if err != nil {
				host, port = v, ""
			}
			if host == "" || strings.ContainsAny(v, "/ ") || (port != "" && !validPort(port)) {
				return S3Config{}, fmt.Errorf("endpoint=%q: want host or host:port, without a scheme", v)
			}
			c.Endpoint = v
		case "region":
			c.Region = v
		case "secure":
			if c.Secure, err = strconv.ParseBool(v); err != nil {
				return S3Config{}, fmt.Errorf("secure=%q: want true or false", v)
			}
		case "path_style":
			if _, err := strconv.ParseBool(v); err != nil {
				return S3Config{}, fmt.Errorf("path_style=%q: want true or false", v)
			}
			pathStyle = v
		default:
			return S3Config{}, fmt.Errorf("unknown parameter %q (endpoint, region, secure, path_style)", name)
		}
	}
	c.PathStyle = c.Endpoint != awsEndpoint
	if pathStyle != "" {
		c.PathStyle, _ = strconv.ParseBool(pathStyle)
	}
	return c, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

// String is the store's URL in its canonical form, without credentials.
func (c S3Config) String() string {
	q := url.Values{}
	if c.Endpoint != awsEndpoint {
		q.Set("endpoint", c.Endpoint)
	}
	if c.Region != "" {
		q.Set("region", c.Region)
	}
	q.Set("secure", strconv.FormatBool(c.Secure))
	q.Set("path_style", strconv.FormatBool(c.PathStyle))
	u := url.URL{Scheme: "s3", Host: c.Bucket, Path: "/" + c.Prefix, RawQuery: q.Encode()}
	if c.Prefix == "" {
		u.Path = ""
	}
	return u.String()
}

// S3 keeps photos as objects of a bucket, PREFIX/ab/abcdef…: the local
// store's layout, so a directory and a bucket map one to one.
type S3 struct {
	cfg    S3Config
	client *minio.Client
}

// NewS3 returns the store of the bucket c names; it does not connect yet
// (Check does).
func NewS3(c S3Config) (*S3, error) {
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, errors.New("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	lookup := minio.BucketLookupDNS
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, c.SessionToken),
		Secure:       c.Secure,
		Region:       c.Region,
		BucketLookup: lookup,
		// A request's own deadline bounds the waiting; three tries ride
		// out a dropped connection without holding an upload for long.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c, err)
	}
	return &S3{cfg: c, client: client}, nil
}

// Check asks whether the bucket exists and the credentials may see it, so
// a bad configuration fails at start, not at the first upload.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("%s: %v", s.cfg, err)
	}
	if !ok {
		return fmt.Errorf("%s: bucket %q does not exist", s.cfg, s.cfg.Bucket)
	}
	return nil
}

func (s *S3) String() string { return s.cfg.String() }

func (s *S3) object(key string) string { return s.cfg.Prefix + objectPath(key) }

// Put uploads the photo in one request with its MD5, which the server
// checks, so a photo damaged on the way is refused rather than kept. It
// does not ask first whether the key is there: an upload is almost always
// a new photo, and writing the same bytes again changes nothing.
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	if !ValidKey(key) {
		return errKey(key)
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.object(key), bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", SendContentMd5: true, DisableMultipart: true})
	if err != nil {
		return fmt.Errorf("photo store put %s: %w", key, err)
	}
	return nil
}

// Open asks for the object's metadata (so a missing photo is ErrNotFound
// here, not at the first read); reading then fetches it, a range at a time
// when the caller seeks.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if !ValidKey(key) {
		return nil, errKey(key)
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.err("get", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.err("get", key, err)
	}
	return obj, nil
}

// Size asks for the object's metadata.
func (s *S3) Size(ctx context.Context, key string) (int64, error) {
	if !ValidKey(key) {
		return 0, errKey(key)
	}
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return 0, s.err("stat", key, err)
	}
	return info.Size, nil
}

// List lists the objects below the prefix; objects not named like a
// photo's key in its directory are not photos and are skipped.
func (s *S3) List(ctx context.Context, fn func(key string, size int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("photo store list: %w", obj.Err)
		}
		rel := strings.TrimPrefix(obj.Key, s.cfg.Prefix)
		dir, key, ok := strings.Cut(rel, "/")
		if !ok || !ValidKey(key) || key[:2] != dir {
			continue
		}
		if err := fn(key, obj.Size); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// err is ErrNotFound for a missing object, else the client's error.
func (s *S3) err(op, key string, err error) error {
	r := minio.ToErrorResponse(err)
	if r.Code == minio.NoSuchKey || r.StatusCode == http.StatusNotFound && r.Code != minio.NoSuchBucket {
		return ErrNotFound
	}
	return fmt.Errorf("photo store %s %s: %w", op, key, err)
}
