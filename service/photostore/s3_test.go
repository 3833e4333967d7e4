package photostore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/photostore/s3test"
)

func TestParseS3URL(t *testing.T) {
	for _, c := range []struct {
		url  string
		want photostore.S3Config
		str  string // String(): canonical, no credentials
	}{
		{"s3://photos?endpoint=127.0.0.1:8333&secure=false",
			photostore.S3Config{Bucket: "photos", Endpoint: "127.0.0.1:8333", PathStyle: true},
			"s3://photos?endpoint=127.0.0.1%3A8333&path_style=true&secure=false"},
		{"s3://menqian-photos/zibo/evidence/?endpoint=oss-cn-qingdao.aliyuncs.com&region=cn-qingdao&path_style=false",
			photostore.S3Config{Bucket: "menqian-photos", Prefix: "zibo/evidence/", Endpoint: "oss-cn-qingdao.aliyuncs.com", Region: "cn-qingdao", Secure: true},
			"s3://menqian-photos/zibo/evidence/?endpoint=oss-cn-qingdao.aliyuncs.com&path_style=false&region=cn-qingdao&secure=true"},
		{"s3://menqian-photos?region=cn-north-1", // Amazon S3: virtual-hosted
			photostore.S3Config{Bucket: "menqian-photos", Endpoint: "s3.amazonaws.com", Region: "cn-north-1", Secure: true},
			"s3://menqian-photos?path_style=false&region=cn-north-1&secure=true"},
		{"s3://b12?endpoint=minio.internal", photostore.S3Config{Bucket: "b12", Endpoint: "minio.internal", Secure: true, PathStyle: true}, ""},
	} {
		got, err := photostore.ParseS3URL(c.url)
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", c.url, got, err, c.want)
			continue
		}
		if c.str != "" && got.String() != c.str {
			t.Errorf("%s: String() = %s, want %s", c.url, got.String(), c.str)
		}
		if again, err := photostore.ParseS3URL(got.String()); err != nil || again != got {
			t.Errorf("%s: String() %s reads back as %+v, %v", c.url, got.String(), again, err)
		}
	}
	withKeys := photostore.S3Config{Bucket: "b12", Endpoint: "x:1", AccessKey: "AKIDEXAMPLE", SecretKey: "s3cret-key", SessionToken: "s3cret-token"}
	if s := withKeys.String(); strings.Contains(s, "AKIDEXAMPLE") || strings.Contains(s, "s3cret") {
		t.Errorf("String() shows credentials: %s", s)
	}

	for _, c := range []struct{ url, says string }{
		{"", "not a \"\" URL"},
		{"http://bucket", "not a \"http\" URL"},
		{"s3://", "no bucket"},
		{"s3:///photos", "no bucket"},
		{"s3://Bad_Bucket?endpoint=x:1", "bucket \"Bad_Bucket\""},
		{"s3://ab?endpoint=x:1", "bucket \"ab\""},
		{"s3://AKID:s3cret@photos?endpoint=x:1", "AWS_ACCESS_KEY_ID"},
		{"s3://photos?endpoint=http://x:1", "endpoint="},
		{"s3://photos?endpoint=x:99999", "endpoint="},
		{"s3://photos?endpoint=:9000", "endpoint="},
		{"s3://photos?secure=maybe", "secure="},
		{"s3://photos?path_style=yes-please", "path_style="},
		{"s3://photos?endpont=x:1", "unknown parameter \"endpont\""},
		{"s3://photos?endpoint=x:1&access_key=AKID", "unknown parameter"},
		{"s3://photos\n?endpoint=x:1", "not a URL"},
	} {
		_, err := photostore.ParseS3URL(c.url)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: %v, want an error saying %q", c.url, err, c.says)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%q: error %q repeats a secret or has several lines", c.url, err)
		}
	}
}

// TestS3Check: the start-up check refuses a bucket that does not exist
// and credentials the server does not know, naming the store but never the
// secret; it passes on the real bucket.
func TestS3Check(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Shared(t)
	good := srv.Bucket(t)
	for _, c := range []struct {
		name   string
		change func(*photostore.S3Config)
		says   string
	}{
		{"the bucket", func(*photostore.S3Config) {}, ""},
		{"a missing bucket", func(c *photostore.S3Config) { c.Bucket = "menqian-no-such-bucket" }, `bucket "menqian-no-such-bucket" does not exist`},
		{"a wrong secret", func(c *photostore.S3Config) { c.SecretKey = "s3cret-wrong" }, c0(good)},
		{"an unknown key", func(c *photostore.S3Config) { c.AccessKey = "AKIDUNKNOWN" }, c0(good)},
	} {
		cfg := good
		c.change(&cfg)
		s, err := photostore.NewS3(cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err = s.Check(ctx)
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says)):
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.says)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%s: the error shows the secret: %v", c.name, err)
		}
	}
	if _, err := photostore.NewS3(photostore.S3Config{Bucket: "photos", Endpoint: "x:1"}); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("no credentials: %v, want an error naming AWS_ACCESS_KEY_ID", err)
	}
}

// c0 is how errors name the store c: its URL, without credentials.
func c0(c photostore.S3Config) string { return c.String() }

// TestS3Prefix: a store with a prefix keeps its photos below it and lists
// only those, so a bucket can be shared.
func TestS3Prefix(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Shared(t)
	cfg := srv.Bucket(t)
	other := cfg
	cfg.Prefix = "zibo/"
	s, _ := photostore.NewS3(cfg)
	root, _ := photostore.NewS3(other)
	data := []byte("a photo under a prefix")
	k := key(data)
	if err := s.Put(ctx, k, data); err != nil {
		t.Fatal(err)
	}
	x := key([]byte("x"))
	srv.PutObject(t, other, x[:2]+"/"+x, []byte("x")) // a photo of the bucket's root, not the prefix's
	if got := list(t, s); len(got) != 1 || got[k] != int64(len(data)) {
		t.Errorf("the prefix lists %v, want its one photo", got)
	}
	if _, err := root.Size(ctx, k); err == nil {
		t.Error("the photo is at the bucket's root, not under the prefix")
	}
	if rootList := list(t, root); len(rootList) != 1 || rootList[x] != 1 {
		t.Errorf("the root lists %v, want its own photo %s only (zibo/… is not a photo's directory)", rootList, x)
	}
}
