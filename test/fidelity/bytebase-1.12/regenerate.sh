#!/usr/bin/env bash
# Regenerates the Bytebase 1.12 oracle from Bytebase's own code:
#   1. cases.json, from stream.json, by Herald's code (cases.ts): the rows Bytebase would read;
#   2. <provider>.json: what Bytebase 1.12.0's backend/plugin/webhook package posts for each case
#      (harness/, posting to a local server), and slugs.json: gosimple/slug's slugs of cases.json's names.
#
# Usage, from the repository's root: test/fidelity/bytebase-1.12/regenerate.sh BYTEBASE SLUG UNIDECODE
# (or the variables BYTEBASE_REPO, SLUG_REPO, UNIDECODE_REPO): git clones, bare ones too, of the
# public repositories bytebase/bytebase, gosimple/slug and gosimple/unidecode. Only their tags are
# read (1.12.0; v1.13.1 and v1.0.1, the versions Bytebase 1.12.0's go.mod names), with git archive.
# Needs Go 1.19 or later (Debian: apt-get install golang-go) and node_modules; downloads nothing
# (GOPROXY=off). From Bytebase it builds backend/plugin/webhook and the one file of backend/common
# the package calls (util.go: TruncateStringWithDescription; the rest of that package needs modules
# not fetched here); github.com/pkg/errors is harness/pkgerrors, four functions over the standard library.
set -euo pipefail

BYTEBASE=${1:-${BYTEBASE_REPO:?give the bytebase clone}}
SLUG=${2:-${SLUG_REPO:?give the gosimple/slug clone}}
UNIDECODE=${3:-${UNIDECODE_REPO:?give the gosimple/unidecode clone}}
here=test/fidelity/bytebase-1.12
[ -f "$here/stream.json" ] || { echo "run from the repository's root" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

extract() { # repo tag folder [paths…]
  local repo=$1 tag=$2 to=$3
  shift 3
  git -C "$repo" rev-parse --verify --quiet "refs/tags/$tag^{commit}" > /dev/null || { echo "$repo has no tag $tag" >&2; exit 1; }
  mkdir -p "$to"
  git -C "$repo" archive "$tag" "$@" | tar -x -C "$to"
}
extract "$BYTEBASE" 1.12.0 "$work/bytebase" backend/plugin/webhook backend/common/util.go
extract "$SLUG" v1.13.1 "$work/slug"
extract "$UNIDECODE" v1.0.1 "$work/unidecode"
printf 'module github.com/bytebase/bytebase\n\ngo 1.19\n\nrequire github.com/pkg/errors v0.9.1\n' > "$work/bytebase/go.mod"

# 1. the cases, by Herald's code
root=$(pwd)
mkdir -p dist/fidelity
cat > dist/fidelity/tsconfig.json <<JSON
{ "extends": "$root/tsconfig.json",
  "compilerOptions": { "outDir": "$root/dist/fidelity", "rootDir": "$root", "types": ["node"], "sourceMap": false, "incremental": false },
  "include": [], "files": ["$root/$here/write-cases.ts"] }
JSON
npx tsc -p dist/fidelity/tsconfig.json
node dist/fidelity/test/fidelity/bytebase-1.12/write-cases.js

# 2. Bytebase's bodies
mkdir -p "$work/harness"
cp "$here"/harness/*.go "$work/harness/"
cp -r "$here/harness/pkgerrors" "$work/pkgerrors"
cat > "$work/harness/go.mod" <<MOD
module herald.local/bytebase-harness

go 1.19

require (
	github.com/bytebase/bytebase v0.0.0
	github.com/gosimple/slug v1.13.1
	github.com/gosimple/unidecode v1.0.1
	github.com/pkg/errors v0.9.1
)

replace github.com/bytebase/bytebase => $work/bytebase
replace github.com/gosimple/slug => $work/slug
replace github.com/gosimple/unidecode => $work/unidecode
replace github.com/pkg/errors => $work/pkgerrors
MOD
out=$root/$here
(cd "$work/harness" && GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off go run . "$out/cases.json" "$out")
echo "regenerated $here from bytebase 1.12.0, gosimple/slug v1.13.1, gosimple/unidecode v1.0.1 ($(go version | cut -d' ' -f3))"
