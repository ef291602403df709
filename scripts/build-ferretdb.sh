#!/usr/bin/env bash
# Builds FerretDB (the MongoDB-compatible server dualgate runs on locally and in CI) from the
# Go module proxy into $(go env GOBIN or GOPATH/bin)/ferretdb. One-time, a few minutes.
#
# Why not plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: that builds,
# but the binary panics at start ("Invalid build/version/version.txt file content"), because
# FerretDB reads its version from a file its release process generates and the module zip
# lacks. So the module's source is copied, that file written, and the same command built.
#
# Three changes are applied on the way, from scripts/ferretdb/ (see docs/operations.md,
# "FerretDB's SQLite backend and indexes" and "FerretDB's updates"):
# 1-id-index.patch: it indexes `_id` as `_ferretdb_sjson->"_id"` but looked documents up by
#   `_ferretdb_sjson->'$._id'`, an expression SQLite does not match to that index, so every
#   lookup by `_id` read the whole collection. The lookup uses the index's own expression.
# 2-equality-pushdown.patch: it handed SQLite no filter but an `_id` equality, so no other
#   index was ever used (listing an account's API users or audit events read every document
#   of every account). Top-level equalities with a string or an ObjectID become conditions on
#   their index expressions (and `$in` lists of them), as a superset of what matches (the
#   handler filters again, exactly).
# 3-atomic-updates.patch: an update or findAndModify read the document, applied its operators
#   in Go and wrote it back, with nothing between the two steps, so concurrent updates of one
#   document lost all but one (of 400 concurrent $inc, 4 were kept); and an update command
#   closed its statements' cursors only at its end, so one of 100 statements held all 100
#   SQLite connections and waited for ever. Each statement now runs under its collection's
#   lock, from its read to its write, and closes its cursor when it is done.
# The build says so in its `package` (`ferretdb --version` prints `package: $MARKER`), which is
# how the gateway and .ci/run tell it from a stock build or one with fewer of the changes.
set -euo pipefail

readonly MARKER=dualgate-indexed-atomic
patches_dir="$(cd "$(dirname "$0")" && pwd)/ferretdb"

versions=("${FERRETDB_VERSION:-v1.24.2}" v1.24.1)
bin_dir=$(go env GOBIN)
[ -n "$bin_dir" ] || bin_dir="$(go env GOPATH)/bin"
mkdir -p "$bin_dir"
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

for version in "${versions[@]}"; do
  echo "Building FerretDB $version into $bin_dir (one-time, a few minutes)..." >&2
  src_dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$src_dir" ] || [ ! -d "$src_dir" ]; then
    echo "Could not download github.com/FerretDB/FerretDB@$version" >&2
    continue
  fi
  rm -rf "$work/src"
  cp -r "$src_dir" "$work/src"
  chmod -R u+w "$work/src"
  echo "$version" >"$work/src/build/version/version.txt"
  echo "$MARKER" >"$work/src/build/version/package.txt"
  applied=true
  for patch_file in "$patches_dir"/*.patch; do
    if ! (cd "$work/src" && git apply "$patch_file"); then
      echo "FerretDB $version: $(basename "$patch_file") does not apply; not building it." >&2
      applied=false
      break
    fi
  done
  $applied || continue
  # Older modules on newer Go can stop at link time on an `invalid reference`: the known
  # workaround is -checklinkname=0.
  if (cd "$work/src" && go build -trimpath -o "$bin_dir/ferretdb" ./cmd/ferretdb) ||
    (cd "$work/src" && go build -trimpath -ldflags=-checklinkname=0 -o "$bin_dir/ferretdb" ./cmd/ferretdb); then
    "$bin_dir/ferretdb" --version >&2
    exit 0
  fi
  echo "Building FerretDB $version failed." >&2
done
exit 1
