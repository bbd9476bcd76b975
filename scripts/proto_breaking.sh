#!/usr/bin/env bash
# Checks proto/ for breaking changes against main with a pinned `buf breaking` (FILE rules:
# a renamed, renumbered, retyped or removed field (reserved or not: generated code loses it),
# a removed enum value, message, service or method, a changed package or file: anything that
# breaks a reader of the log or a user of the generated code). Old payloads stay on Kafka forever, so a change of
# shape is a new versioned package (planet.exchange.v2) with an upcaster, never an edit.
#
#   scripts/proto_breaking.sh           check the working tree's proto/ against the base below
#   scripts/proto_breaking.sh install   build buf $BUF_VERSION with `go install` into .local/bin
#   scripts/proto_breaking.sh path      print the path of the buf binary (installing if needed)
#
# The base: $PROTO_BREAKING_AGAINST (any git ref) if set; else the merge-base of HEAD and main
# (on a branch: everything the branch changed); on main itself, main's HEAD when proto/ has
# uncommitted changes, otherwise HEAD's parent (the latest commit's changes). A CI that knows
# the last released commit sets PROTO_BREAKING_AGAINST to it. $PROTO_BREAKING_REPO checks
# another checkout (tests use a temporary one).
#
# Needs only Go on PATH (buf builds in 1-3 minutes through GOPROXY, once; later runs take ~1 s).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
BUF_VERSION="${BUF_VERSION:-v1.75.0}"
bindir="$root/.local/bin"
buf="$bindir/buf"
repo="${PROTO_BREAKING_REPO:-$root}"

die() { printf 'proto_breaking.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'proto_breaking.sh: %s\n' "$*" >&2; }

install_buf() {
  if [ -x "$buf" ] && [ "v$("$buf" --version 2>/dev/null)" = "$BUF_VERSION" ]; then
    return 0
  fi
  [ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null 2>&1 || die "Go is not on PATH; install Go to build buf $BUF_VERSION"
  mkdir -p "$bindir"
  # Build into a private dir and move into place: a concurrent or interrupted run never
  # leaves a half-written binary at .local/bin/buf.
  local tmp buildlog
  tmp="$(mktemp -d "$root/.local/buf-build.XXXXXX")"
  buildlog="$root/.local/buf-build.log"
  log "building buf $BUF_VERSION with go install (1-3 minutes, once; log: $buildlog)"
  if ! (cd "$tmp" && GOBIN="$tmp" GOFLAGS="-buildvcs=false" \
        go install "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION") >"$buildlog" 2>&1; then
    rm -rf "$tmp"
    die "go install github.com/bufbuild/buf/cmd/buf@$BUF_VERSION failed: $(grep -v '^[[:space:]]' "$buildlog" | tail -n 1) (full log: $buildlog)"
  fi
  mv -f "$tmp/buf" "$buf"
  rm -rf "$tmp"
  "$buf" --version >/dev/null 2>&1 || die "built $buf but it does not run"
  log "installed buf $("$buf" --version) at $buf"
}

base_ref() {
  if [ -n "${PROTO_BREAKING_AGAINST:-}" ]; then
    git -C "$repo" rev-parse --verify -q "${PROTO_BREAKING_AGAINST}^{commit}" \
      || die "PROTO_BREAKING_AGAINST=$PROTO_BREAKING_AGAINST is not a commit in $repo"
    return
  fi
  local main head
  main="$(git -C "$repo" rev-parse --verify -q 'main^{commit}')" \
    || die "no branch main in $repo to compare with; set PROTO_BREAKING_AGAINST to a ref"
  head="$(git -C "$repo" rev-parse --verify -q 'HEAD^{commit}')" || { echo "$main"; return; }
  if [ "$head" != "$main" ]; then
    git -C "$repo" merge-base "$head" "$main"
  elif [ -n "$(git -C "$repo" status --porcelain -- proto)" ]; then
    echo "$head"
  else
    # Nothing uncommitted: check what the latest commit did (nothing to do on a root commit).
    git -C "$repo" rev-parse --verify -q 'HEAD~1^{commit}' || echo "$head"
  fi
}

check() {
  install_buf
  [ -d "$repo/proto" ] || die "no proto/ in $repo"
  local base
  base="$(base_ref)"
  if ! git -C "$repo" cat-file -e "$base:proto" 2>/dev/null; then
    log "no proto/ at $(git -C "$repo" rev-parse --short "$base"): nothing to compare with"
    return 0
  fi
  # buf reads the base straight from git (a clone of the local repository, no network).
  local against=".git#ref=$base,subdir=proto"
  local rc=0 short
  short="$(git -C "$repo" rev-parse --short "$base")"
  # buf reports a proto that does not compile the way it reports a breaking change (exit 100),
  # so compile the working tree first and say which it is.
  (cd "$repo" && "$buf" build proto -o /dev/null) \
    || die "proto/ does not compile (above); buf could not compare it with $short"
  (cd "$repo" && "$buf" breaking proto --against "$against") || rc=$?
  if [ "$rc" = 100 ]; then
    die "proto/ has breaking changes against $short (above): a new shape goes in a new versioned package (e.g. planet.<area>.v2) served beside the old one, with an upcaster in planetkit/upcasters.py; mark an unused field deprecated instead of removing it"
  elif [ "$rc" != 0 ]; then
    die "buf could not compare proto/ with $short (above; exit $rc)"
  fi
  log "no breaking changes in proto/ against $(git -C "$repo" rev-parse --short "$base")"
}

case "${1:-check}" in
  check) check ;;
  install) install_buf ;;
  path) install_buf; echo "$buf" ;;
  *) die "unknown command ${1}; use check, install or path" ;;
esac
