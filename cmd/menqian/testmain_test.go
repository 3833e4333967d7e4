package main

import (
	"os"
	"testing"

	"github.com/menqian/menqian/service/photostore/s3test"
)

// envTestMain, set to 1, makes the test binary menqian itself: its main
// with its arguments. The two-instance test starts its `serve` processes so,
// the code under test in processes of their own without building a binary.
const envTestMain = "MENQIAN_TEST_MAIN"

// TestMain runs the tests and then stops the S3 server they started
// (s3test); or, with MENQIAN_TEST_MAIN=1, or loadChildEnv set as `load
// -mixed` does for its instances and its month close, runs menqian.
func TestMain(m *testing.M) {
	if os.Getenv(envTestMain) == "1" || os.Getenv(loadChildEnv) == "1" {
		main()
		os.Exit(0)
	}
	s3test.Main(m)
}
