#!/usr/bin/env bash
# Runs the SQLite test suites on other Node.js release lines, e.g. `scripts/test-on-node.sh 22 24`
# (CI does: the machine's own Node.js runs the whole suite).
#
# Each line's official build comes from the npm registry as a package (node-<os>-<arch>@<major>, headers in
# include/node), into a cache outside the project; a copy of this checkout gets its own `npm ci` under that
# Node.js (native modules are built against its headers: npm_config_nodedir; none is downloaded), its own build,
# and then jest's `sqlite` project. The checkout's own node_modules is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$(pwd)
cache=${HERALD_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herald-node}
os=$(node -p 'process.platform')
arch=$(node -p 'process.arch')
[ $# -gt 0 ] || { echo "usage: $0 <node major>..." >&2; exit 2; }

for major in "$@"; do
  # the newest release of that line
  version=$(npm view "node-$os-$arch@$major" version --json | node -e '
    const key = (v) => v.split(".").map(Number);
    const newer = (a, b) => { for (let i = 0; i < 3; i++) if (key(a)[i] !== key(b)[i]) return key(a)[i] - key(b)[i]; return 0; };
    console.log([JSON.parse(require("fs").readFileSync(0, "utf8"))].flat().sort(newer).at(-1))')
  nodedir="$cache/$version"
  if [ ! -x "$nodedir/bin/node" ]; then
    echo "== fetching Node.js $version (npm package node-$os-$arch@$version)"
    rm -rf "$nodedir.tmp" && mkdir -p "$nodedir.tmp"
    (cd "$nodedir.tmp" && npm pack "node-$os-$arch@$version" --silent >/dev/null && tar xzf ./*.tgz && rm ./*.tgz)
    rm -rf "$nodedir" && mv "$nodedir.tmp/package" "$nodedir" && rm -rf "$nodedir.tmp"
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/herald-node$major-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # the checkout as it is (tracked files, with uncommitted changes), without node_modules or build output
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
    tar --null -T - -cf - | tar -xf - -C "$work"
  echo "== Node.js $version: npm ci, build, jest --selectProjects sqlite (in $work)"
  (
    cd "$work"
    export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
    node --version
    npm ci --no-audit --no-fund
    npm run build
    NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects sqlite
  )
  rm -rf "$work"
  trap - EXIT
done
