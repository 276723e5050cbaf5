# Shared by lab/k8s-build.sh and lab/k8s-lab.sh: where the lab's
# binaries live. Source it; it sets:
#   K8S_REPO_ROOT   the repository root
#   K8S_KEY         cache key: pinned versions + hash of the wrapper modules
#   K8S_CACHE_DIR   .cache/k8s/$K8S_KEY
#   K8S_BIN         .cache/k8s/$K8S_KEY/bin
#   K8S_COMPONENTS  the binaries that make up the lab
# shellcheck shell=bash

K8S_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=lab/k8s/versions.env
. "$K8S_REPO_ROOT/lab/k8s/versions.env"

K8S_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl)

k8s_source_hash() {
  # Everything that decides what the binaries are. Sorted, fixed order.
  local d="$K8S_REPO_ROOT/lab/k8s"
  (cd "$d" && cat versions.env go.mod go.sum cmd/*/main.go etcd/go.mod etcd/go.sum etcd/main.go) \
    | sha256sum | cut -c1-10
}

K8S_KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_$(k8s_source_hash)"
K8S_CACHE_DIR="$K8S_REPO_ROOT/.cache/k8s/$K8S_KEY"
K8S_BIN="$K8S_CACHE_DIR/bin"

k8s_missing_components() {
  local c
  for c in "${K8S_COMPONENTS[@]}"; do
    [ -x "$K8S_BIN/$c" ] || echo "$c"
  done
}
