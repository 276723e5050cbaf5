#!/usr/bin/env bash
# Build the local Kubernetes lab's binaries from Go modules (no prebuilt
# binary is downloaded): kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl (lab/k8s/, k8s.io/kubernetes), etcd
# (lab/k8s/etcd/), kwok and kwokctl (go install sigs.k8s.io/kwok@pinned).
#
# Output goes to .cache/k8s/<key>/bin/, where <key> holds the pinned versions
# and a hash of lab/k8s/ (see lab/k8s/lib.sh). Idempotent: when all
# binaries exist it only prints one "found" line per component.
#
# Usage: bash lab/k8s-build.sh            build what is missing
#        bash lab/k8s-build.sh --print-bin print the bin folder and exit
# Env:   K8S_BUILD_P  go build -p (default: number of cores)
#        GOMODCACHE / GOCACHE / GOPROXY are honoured as usual.
set -euo pipefail

# shellcheck source=lab/k8s/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s/lib.sh"

if [ "${1:-}" = "--print-bin" ]; then
  echo "$K8S_BIN"
  exit 0
fi

report_found() {
  local c=$1 v=""
  [ -f "$K8S_BIN/.version-$c" ] && v=$(<"$K8S_BIN/.version-$c")
  echo "found $c ${v:-?}"
}

# Fast path: everything is there.
missing=$(k8s_missing_components)
if [ -z "$missing" ]; then
  for c in "${K8S_COMPONENTS[@]}"; do report_found "$c"; done
  exit 0
fi

mkdir -p "$K8S_BIN"
# One build at a time (two `k8s-lab.sh up` in parallel both call us).
exec 9>"$K8S_CACHE_DIR/.build.lock"
flock 9
missing=$(k8s_missing_components) # may have been built while we waited

if ! command -v go >/dev/null 2>&1; then
  echo "k8s-build: step 'check go' failed: no 'go' on PATH (Go >= 1.26 is needed)" >&2
  exit 1
fi

export GOFLAGS="-trimpath -mod=readonly -buildvcs=false" # no git stamp: same inputs, same bytes
export GOWORK=off
export CGO_ENABLED=0
P=${K8S_BUILD_P:-$(nproc)}
TMP="$K8S_CACHE_DIR/.tmp"
LOG="$K8S_CACHE_DIR/build.log"
rm -rf "$TMP"
mkdir -p "$TMP"
: >"$LOG"

is_missing() { grep -qx "$1" <<<"$missing"; }

# run STEP-NAME DIR CMD...: run a go command, timed; on failure name the step,
# show its output and exit non-zero.
run() {
  local step=$1 dir=$2
  shift 2
  local t0=$SECONDS
  echo "k8s-build: $step ..." >&2
  echo "### $step: (cd $dir && $*)" >>"$LOG"
  if ! (cd "$dir" && "$@") >"$TMP/step.log" 2>&1; then
    cat "$TMP/step.log" >>"$LOG"
    {
      echo "k8s-build: step '$step' FAILED; command: (cd $dir && $*)"
      echo "----- go output -----"
      cat "$TMP/step.log"
      echo "---------------------"
      echo "(full log: $LOG)"
    } >&2
    exit 1
  fi
  cat "$TMP/step.log" >>"$LOG"
  echo "k8s-build: $step done in $((SECONDS - t0))s" >&2
}

kube_ldflags() {
  local v=${K8S_VERSION#v} major minor
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  local f="-s -w" pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    f+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    f+=" -X $pkg.gitCommit=module-k8s.io/kubernetes@$K8S_VERSION -X $pkg.gitTreeState=clean"
    f+=" -X $pkg.buildDate=$K8S_BUILD_DATE"
  done
  echo "$f"
}

start=$SECONDS
built=()

# 1. Kubernetes binaries from the wrapper module (one go build: shared work).
kube_pkgs=()
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  is_missing "$c" && kube_pkgs+=("./cmd/$c")
done
if [ ${#kube_pkgs[@]} -gt 0 ]; then
  run "go build kubernetes ${K8S_VERSION} (${kube_pkgs[*]#./cmd/})" "$K8S_REPO_ROOT/lab/k8s" \
    go build -p "$P" -ldflags "$(kube_ldflags)" -o "$TMP/" "${kube_pkgs[@]}"
  for p in "${kube_pkgs[@]}"; do built+=("${p#./cmd/}"); done
fi

# 2. etcd from its own wrapper module.
if is_missing etcd; then
  run "go build etcd ${ETCD_VERSION}" "$K8S_REPO_ROOT/lab/k8s/etcd" \
    go build -p "$P" -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" -o "$TMP/etcd" .
  built+=(etcd)
fi

# 3. kwok + kwokctl, pinned, straight from their module.
kwok_pkgs=()
for c in kwok kwokctl; do
  is_missing "$c" && kwok_pkgs+=("sigs.k8s.io/kwok/cmd/$c@$KWOK_VERSION")
done
if [ ${#kwok_pkgs[@]} -gt 0 ]; then
  run "go install kwok ${KWOK_VERSION}" "$TMP" \
    env GOBIN="$TMP" go install -p "$P" -ldflags "-s -w" "${kwok_pkgs[@]}"
  for p in "${kwok_pkgs[@]}"; do p=${p%@*}; built+=("${p##*/}"); done
fi

# Record each binary's own --version, then move it into place (a binary only
# appears in bin/ once it is complete).
for c in "${built[@]}"; do
  v=$("$TMP/$c" --version 2>&1 | head -n1 || true)
  [ "$c" = kubectl ] && v=$("$TMP/$c" version --client 2>&1 | head -n1 || true)
  echo "$v" >"$K8S_BIN/.version-$c"
  mv -f "$TMP/$c" "$K8S_BIN/$c"
done
rm -rf "$TMP"

for c in "${K8S_COMPONENTS[@]}"; do
  if printf '%s\n' "${built[@]}" | grep -qx "$c"; then
    echo "built $c $(<"$K8S_BIN/.version-$c")"
  else
    report_found "$c"
  fi
done
echo "k8s-build: $K8S_BIN ready in $((SECONDS - start))s" >&2
