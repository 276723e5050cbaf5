#!/usr/bin/env bash
# One real Kubernetes control plane per lab site (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) plus kwok's fake nodes, run by
# kwokctl's "binary" runtime from the binaries lab/k8s-build.sh built.
# Nothing is downloaded.
#
# Usage: bash lab/k8s-lab.sh up     SITE [PORT]  start cluster dr-SITE (API on HOST:PORT;
#                                                     no PORT: kwokctl picks a free one)
#        bash lab/k8s-lab.sh down   SITE         stop and delete cluster dr-SITE only
#        bash lab/k8s-lab.sh status SITE         "dr-SITE up port=N kubeconfig=..." (exit 0)
#                                                     or "dr-SITE down ..." (exit 3)
# Env:   K8S_LAB_NODES  number of fake nodes (default 3)
#        K8S_LAB_DIR    state folder (default .lab/k8s); each lab passes its own
#        K8S_LAB_HOST   the address every component binds (default 127.0.0.1); the
#                       lab passes the site's own and runs "up" in its namespace
#
# State: .lab/k8s/kwok/clusters/dr-SITE/ (kwokctl's workdir: pki, etcd data,
# logs/, pids/), standalone kubeconfig (certs embedded): .lab/k8s/SITE.kubeconfig
set -euo pipefail

# shellcheck source=lab/k8s/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s/lib.sh"

LAB_DIR="${K8S_LAB_DIR:-$K8S_REPO_ROOT/.lab/k8s}"
export KWOK_WORKDIR="$LAB_DIR/kwok"
NODES=${K8S_LAB_NODES:-3}
HOST=${K8S_LAB_HOST:-127.0.0.1}
# kwokctl points its own components at 127.0.0.1: in a namespace they listen on every address of it.
BIND=127.0.0.1
[ "$HOST" = 127.0.0.1 ] || BIND=0.0.0.0
LOCK=.lock
[ "$HOST" = 127.0.0.1 ] || LOCK=".lock-${2:-}"

usage() {
  sed -n '7,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "k8s-lab: $*" >&2
  exit 1
}

[ $# -ge 2 ] || usage
CMD=$1
SITE=$2
PORT=${3:-}
[[ $SITE =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] || die "bad site name '$SITE' (lower-case letters, digits, '-')"
[ -z "$PORT" ] || [[ $PORT =~ ^[0-9]+$ && $PORT -ge 1024 && $PORT -le 65535 ]] || die "bad port '$PORT' (1024-65535)"

NAME="dr-$SITE"
CDIR="$KWOK_WORKDIR/clusters/$NAME"
KUBECONFIG_OUT="$LAB_DIR/$SITE.kubeconfig"

need_binaries() {
  local missing
  missing=$(k8s_missing_components | tr '\n' ' ')
  if [ -n "$missing" ]; then
    die "lab binaries missing in $K8S_BIN: ${missing}
  build them first (once; ~9 min on a cold Go cache): bash lab/k8s-build.sh"
  fi
  export PATH="$K8S_BIN:$PATH" # kwokctl looks kubectl up on PATH first
}

# API port of an existing cluster, from kwokctl's saved config.
api_port() {
  [ -f "$CDIR/kwok.yaml" ] || return 0
  sed -n 's/^ *kubeApiserverPort: *\([0-9]*\).*/\1/p' "$CDIR/kwok.yaml" | head -n1
}

# A pid is alive if it exists and is not a zombie waiting to be reaped.
alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# 0 if every component's process is alive and the API answers /readyz.
cluster_up() {
  local f pid port
  [ -d "$CDIR/pids" ] || return 1
  for f in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
    [ -f "$CDIR/pids/$f.pid" ] || return 1
    pid=$(<"$CDIR/pids/$f.pid")
    alive "$pid" || return 1
  done
  port=$(api_port)
  [ -n "$port" ] || return 1
  curl -sf --max-time 3 --cacert "$CDIR/pki/ca.crt" --cert "$CDIR/pki/admin.crt" \
    --key "$CDIR/pki/admin.key" "https://$HOST:$port/readyz" >/dev/null
}

# Which components are not running (for status/diagnostics).
dead_components() {
  local f out=""
  for f in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
    if [ ! -f "$CDIR/pids/$f.pid" ] || ! alive "$(<"$CDIR/pids/$f.pid")"; then
      out+="$f "
    fi
  done
  echo "${out% }"
}

status_line() {
  if cluster_up; then
    echo "$NAME up port=$(api_port) kubeconfig=$KUBECONFIG_OUT"
    return 0
  elif [ -d "$CDIR" ]; then
    echo "$NAME down (exists but not healthy; not running: $(dead_components); port=$(api_port))"
  else
    echo "$NAME down"
  fi
  return 3
}

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

write_kubeconfig() {
  local port=$1 tmp
  tmp=$(mktemp "$LAB_DIR/.kubeconfig.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $NAME
  cluster:
    server: https://$HOST:$port
    certificate-authority-data: $(base64 -w0 <"$CDIR/pki/ca.crt")
users:
- name: $NAME-admin
  user:
    client-certificate-data: $(base64 -w0 <"$CDIR/pki/admin.crt")
    client-key-data: $(base64 -w0 <"$CDIR/pki/admin.key")
contexts:
- name: $NAME
  context:
    cluster: $NAME
    user: $NAME-admin
    namespace: default
current-context: $NAME
EOF
  chmod 600 "$tmp"
  mv -f "$tmp" "$KUBECONFIG_OUT"
}

# 9>&-: kwokctl hands its open fds on to the components it starts; they must
# not keep our lock file (fd 9) open.
kwokctl_() { kwokctl --name "$NAME" "$@" 9>&-; }

delete_cluster() {
  if [ -d "$CDIR" ]; then
    kwokctl_ delete cluster >"$LAB_DIR/$NAME.delete.log" 2>&1 ||
      { cat "$LAB_DIR/$NAME.delete.log" >&2; die "kwokctl delete cluster $NAME failed"; }
    rm -f "$LAB_DIR/$NAME.delete.log"
  fi
  rm -f "$KUBECONFIG_OUT"
}

fail_up() {
  local msg=$1 keep="$LAB_DIR/$NAME-failed-logs"
  echo "k8s-lab: up $SITE failed: $msg" >&2
  if [ -d "$CDIR/logs" ]; then
    rm -rf "$keep"
    cp -r "$CDIR/logs" "$keep"
    for f in "$keep"/*.log; do
      echo "----- tail $(basename "$f") -----" >&2
      tail -n 15 "$f" >&2
    done
    echo "(component logs kept in $keep)" >&2
  fi
  delete_cluster || true
  exit 1
}

k() { kubectl --kubeconfig "$KUBECONFIG_OUT" "$@"; }

cmd_up() {
  need_binaries
  mkdir -p "$KWOK_WORKDIR"
  # Serialise cluster creation where clusters share an address: kwokctl picks the components' free ports
  # itself. A site in a namespace of its own has its own ports, and its own lock.
  exec 9>"$LAB_DIR/$LOCK"
  flock 9

  if cluster_up; then
    local cur
    cur=$(api_port)
    if [ -n "$PORT" ] && [ "$PORT" != "$cur" ]; then
      die "$NAME is already up on port $cur, not $PORT; run: bash lab/k8s-lab.sh down $SITE"
    fi
    [ -f "$KUBECONFIG_OUT" ] || write_kubeconfig "$cur"
    echo "$NAME already up port=$cur kubeconfig=$KUBECONFIG_OUT"
    return 0
  fi
  if [ -d "$CDIR" ] && { [ -z "$PORT" ] || [ "$PORT" = "$(api_port)" ]; }; then
    # After a power-off: start the same components on the same data, as a restored site would.
    kwokctl_ stop cluster >"$LAB_DIR/$NAME.start.log" 2>&1 || true
    if kwokctl_ start cluster >>"$LAB_DIR/$NAME.start.log" 2>&1; then
      for _ in $(seq 1 60); do
        if cluster_up; then
          write_kubeconfig "$(api_port)"
          rm -f "$LAB_DIR/$NAME.start.log"
          echo "$NAME restarted port=$(api_port) kubeconfig=$KUBECONFIG_OUT"
          return 0
        fi
        sleep 0.5
      done
    fi
  fi
  if [ -d "$CDIR" ]; then
    [ -n "$PORT" ] || PORT=$(api_port) # keep its port
    echo "k8s-lab: $NAME exists but is not healthy; recreating it${PORT:+ on port $PORT}" >&2
    delete_cluster
  fi
  if [ -n "$PORT" ]; then
    local w
    for w in $(seq 1 20); do # a just-deleted apiserver may take a moment to let go
      port_in_use "$PORT" || break
      [ "$w" -lt 20 ] || die "port $PORT on $HOST is already in use"
      sleep 0.5
    done
  fi

  local cfg t0=$SECONDS
  cfg=$(mktemp "$LAB_DIR/.kwokctl.XXXXXX.yaml")
  # Everything on the site's address; every binary local (kwokctl symlinks local paths
  # into the cluster's bin/ instead of downloading).
  cat >"$cfg" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: $BIND
  kubeVersion: $K8S_VERSION
  etcdVersion: ${ETCD_VERSION#v}
  kwokVersion: $KWOK_VERSION
  quietPull: true
  cacheDir: $KWOK_WORKDIR/cache
  etcdBinary: $K8S_BIN/etcd
  kubeApiserverBinary: $K8S_BIN/kube-apiserver
  kubeControllerManagerBinary: $K8S_BIN/kube-controller-manager
  kubeSchedulerBinary: $K8S_BIN/kube-scheduler
  kubectlBinary: $K8S_BIN/kubectl
  kwokControllerBinary: $K8S_BIN/kwok
EOF
  # Listening on every address, kube-apiserver advertises the one of the default route; a site has none.
  [ "$BIND" = 127.0.0.1 ] || cat >>"$cfg" <<EOF
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: advertise-address
    value: $HOST
EOF
  local args=(create cluster --kubeconfig "" --wait 120s)
  [ -n "$PORT" ] && args+=(--kube-apiserver-port "$PORT")
  if ! kwokctl_ -c "$cfg" "${args[@]}" >"$LAB_DIR/$NAME.create.log" 2>&1; then
    rm -f "$cfg"
    cat "$LAB_DIR/$NAME.create.log" >&2
    fail_up "kwokctl create cluster failed"
  fi
  rm -f "$cfg"
  local port
  port=$(api_port)
  [ -n "$port" ] || fail_up "no kubeApiserverPort in $CDIR/kwok.yaml"
  write_kubeconfig "$port"

  if ! kwokctl_ scale node --replicas "$NODES" >>"$LAB_DIR/$NAME.create.log" 2>&1; then
    fail_up "kwokctl scale node --replicas $NODES failed (see $LAB_DIR/$NAME.create.log)"
  fi
  # Ready = fake nodes Ready and the controller-manager has created the
  # default ServiceAccount (pods are rejected until it exists).
  local ok=""
  for _ in $(seq 1 120); do
    if [ "$(k get nodes -o name 2>/dev/null | wc -l)" -ge "$NODES" ] &&
      k wait --for=condition=Ready node --all --timeout=1s >/dev/null 2>&1 &&
      k get serviceaccount default -n default >/dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 1
  done
  [ -n "$ok" ] || fail_up "nodes or the default ServiceAccount not ready after 120s"
  rm -f "$LAB_DIR/$NAME.create.log"
  echo "$NAME up port=$port kubeconfig=$KUBECONFIG_OUT nodes=$NODES ($((SECONDS - t0))s)"
}

cmd_down() {
  if [ ! -d "$CDIR" ]; then
    rm -f "$KUBECONFIG_OUT"
    echo "$NAME down (was not there)"
    return 0
  fi
  command -v kwokctl >/dev/null 2>&1 || [ -x "$K8S_BIN/kwokctl" ] ||
    die "kwokctl missing ($K8S_BIN); build it with: bash lab/k8s-build.sh"
  export PATH="$K8S_BIN:$PATH"
  exec 9>"$LAB_DIR/$LOCK"
  flock 9
  delete_cluster
  echo "$NAME down (deleted)"
}

mkdir -p "$LAB_DIR"
case "$CMD" in
up) cmd_up ;;
down) cmd_down ;;
status) status_line ;;
*) usage ;;
esac
