#!/usr/bin/env bash
# Installs a pinned Helm into .local/bin (once) and checks the Planet chart.
#
#   scripts/helm.sh install   build Helm $HELM_VERSION with `go install` into .local/bin (skip if present)
#   scripts/helm.sh lint      install if needed, then `helm lint --strict` and `helm template` the chart
#                             with its default values (plus the required ones) and with
#                             deploy/k8s/ci-values.yaml (everything on)
#   scripts/helm.sh path      print the path of the helm binary (after installing it if needed)
#
# Needs only Go on PATH; no Kubernetes cluster. Works with an empty Go module cache (the build
# downloads Helm's modules through GOPROXY; 2-5 minutes).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
bindir="$root/.local/bin"
helm="$bindir/helm"
chart="$root/deploy/k8s/planet"
ci_values="$root/deploy/k8s/ci-values.yaml"
# Offline rendering assumes Kubernetes 1.20 unless told; the chart needs 1.27+ (native gRPC
# probes), so render against that floor: every API the chart uses must exist there.
kube_version="${HELM_KUBE_VERSION:-1.27.0}"

die() { printf 'helm.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'helm.sh: %s\n' "$*" >&2; }

install_helm() {
  if [ -x "$helm" ] && "$helm" version --short >/dev/null 2>&1; then
    return 0
  fi
  # The Go toolchain's usual home, for shells whose PATH lacks it (CI, cron).
  [ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null 2>&1 || die "Go is not on PATH; install Go to build Helm $HELM_VERSION (it needs Go 1.26+; an older go fetches that toolchain itself)"
  mkdir -p "$bindir"
  # Build into a private dir and move into place, so a concurrent or interrupted run never
  # leaves a half-written binary at .local/bin/helm.
  local tmp buildlog
  tmp="$(mktemp -d "$root/.local/helm-build.XXXXXX")"
  buildlog="$root/.local/helm-build.log"
  log "building Helm $HELM_VERSION with go install (2-5 minutes; log: $buildlog)"
  # An inherited GOFLAGS such as -mod=vendor breaks `go install pkg@version`; set it explicitly.
  if ! (cd "$tmp" && GOBIN="$tmp" GOFLAGS="-buildvcs=false" \
        go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION") >"$buildlog" 2>&1; then
    rm -rf "$tmp"
    # The last unindented line is Go's own summary of what went wrong.
    die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed: $(grep -v '^[[:space:]]' "$buildlog" | tail -n 1) (full log: $buildlog)"
  fi
  mv -f "$tmp/helm" "$helm"
  rm -rf "$tmp"
  "$helm" version --short >/dev/null 2>&1 || die "built $helm but it does not run"
  log "installed $("$helm" version --short) at $helm"
}

lint_chart() {
  [ -f "$chart/Chart.yaml" ] || die "no chart at $chart"
  [ -f "$ci_values" ] || die "no CI values file at $ci_values"
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  # The chart's required values (no defaults); any placeholder renders.
  local req=(--set kafka.bootstrapServers=kafka-bootstrap.kafka.svc:9092
             --set gateway.serviceKeySecretName=planet-gateway-service-key
             --set content.serviceKeySecretName=planet-content-service-key
             --set serviceAuth.trustSecretName=planet-service-trust
             --set gateway.identityProvider.issuer=https://id.exchange.example
             --set gateway.identityProvider.audience=planet-api
             --set gateway.identityProvider.jwksUrl=https://id.exchange.example/.well-known/jwks.json
             --set analytics.pseudonymKeySecretName=planet-analytics-pseudonym-key)
  local kv=(--kube-version "$kube_version")
  log "helm lint (default values)"
  "$helm" lint --strict "$chart" "${kv[@]}" "${req[@]}"
  log "helm lint (ci-values.yaml)"
  "$helm" lint --strict "$chart" "${kv[@]}" -f "$ci_values"
  log "helm template (default values)"
  "$helm" template planet "$chart" "${kv[@]}" "${req[@]}" >"$out/default.yaml"
  log "helm template (ci-values.yaml)"
  "$helm" template planet "$chart" "${kv[@]}" -f "$ci_values" >"$out/ci.yaml"
  log "ok: $(grep -c '^kind:' "$out/default.yaml") objects with defaults," \
      "$(grep -c '^kind:' "$out/ci.yaml") with ci-values.yaml"
}

case "${1:-lint}" in
  install) install_helm ;;
  lint) install_helm; lint_chart ;;
  path) install_helm; printf '%s\n' "$helm" ;;
  -h|--help|help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '${1}'; use install, lint or path" ;;
esac
