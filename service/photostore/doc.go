// Package photostore keeps evidence photos under the SHA-256 of their bytes,
// in a local directory or an S3-compatible bucket; it is the only package
// that imports the S3 client (minio-go).
package photostore
