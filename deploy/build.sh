#!/bin/sh
# The build stage of deploy/Dockerfile, as a plain script: the image runs it,
# and so can CI or a developer with only Go installed (cmd/menqian's
# TestDeployBuildScript does), so the image's build is checked where no Docker
# engine runs.
#
#   sh deploy/build.sh [OUTDIR]      (default: dist/ at the repository root)
#
# OUTDIR/menqian is a static binary (CGO off: the SQLite driver is pure Go, the
# resolver Go's own), so it runs on a distroless base with no libc; OUTDIR/data
# is the empty /data of the image (SQLite file and photos), to be owned by the
# image's non-root user.
set -eu

out=${1:-dist}
case $out in
/*) ;;
*) out=$(pwd)/$out ;;
esac
cd "$(dirname "$0")/.."

export CGO_ENABLED=0
# No VCS stamp: the image's build context leaves .git out.
go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$out/menqian" ./cmd/menqian
mkdir -p "$out/data/photos"
# The binary starts and answers its own help (it has no shell to run in the image).
"$out/menqian" healthcheck -h >/dev/null
echo "built $out/menqian"
