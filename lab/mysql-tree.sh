#!/usr/bin/env bash
# Builds the project's own MySQL tree from Debian unstable without touching the system's apt or dpkg.
# apt-get runs with its own sources, status, lists and cache under .cache/mysql/apt and only downloads; each
# package is unpacked with dpkg-deb -x into .cache/mysql/<version>/, and bin/ gets one wrapper per tool that
# runs it through the tree's own loader and libraries. Idempotent; prints one line.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. lab/mysql.env
TREE=$ROOT/.cache/mysql/$MYSQL_VERSION
APT=$ROOT/.cache/mysql/apt
# Downloaded packages are kept per machine, like Go's module cache, so a fresh clone does not fetch them again.
DEBS=${XDG_CACHE_HOME:-$HOME/.cache}/dr-runbooks/mysql-debs
STAMP=$TREE/.dr-tree-stamp
want="$MYSQL_DEB_VERSION $(cat lab/mysql.env lab/mysql-debs.sha256 lab/mysql-tree.sh | sha256sum | cut -c1-16)"
if [[ -f $STAMP && $(cat "$STAMP") == "$want" ]]; then echo "found $MYSQL_DEB_VERSION in $TREE"; exit 0; fi
die() { echo "mysql tree: $*" >&2; exit 1; }

pinned() { awk '{print $2}' "$ROOT/lab/mysql-debs.sha256"; }
have_all() { (cd "$DEBS" && sha256sum --quiet --status -c "$ROOT/lab/mysql-debs.sha256") 2>/dev/null; }
mkdir -p "$DEBS"
how="from the machine's cache $DEBS"
if ! have_all; then
  how="downloaded from Debian unstable"
  mkdir -p "$APT"/{etc/sources.list.d,etc/preferences.d,etc/apt.conf.d,state/lists/partial}
  : >"$APT/state/status"
  echo "deb $MYSQL_DEBIAN_MIRROR unstable main" >"$APT/etc/sources.list"
  opts=(-o "Dir::Etc=$APT/etc" -o "Dir::Etc::SourceList=$APT/etc/sources.list" -o "Dir::Etc::SourceParts=$APT/etc/sources.list.d"
    -o "Dir::Etc::Parts=$APT/etc/apt.conf.d" -o "Dir::Etc::PreferencesParts=$APT/etc/preferences.d"
    -o "Dir::Etc::Trusted=/etc/apt/trusted.gpg" -o "Dir::Etc::TrustedParts=/etc/apt/trusted.gpg.d"
    -o "Dir::State=$APT/state" -o "Dir::State::status=$APT/state/status" -o "Dir::Cache=$APT/cache" -o "Dir::Cache::archives=$DEBS"
    -o "APT::Architecture=amd64" -o "APT::Architectures::=amd64" -o "Debug::NoLocking=1" -o "APT::Install-Recommends=false"
    -o "APT::Sandbox::User=root")
  log=$APT/apt.log
  apt-get "${opts[@]}" -qq update >"$log" 2>&1 || { cat "$log" >&2; die "apt-get update of Debian unstable ($MYSQL_DEBIAN_MIRROR) failed: apt's message is above"; }
  # Every package at its pinned version: the whole tree is what was tested, not whatever unstable has today.
  mapfile -t want_pkgs < <(pinned | sed -E 's/^([^_]+)_([^_]+)_.*/\1=\2/; s/%3a/:/g')
  apt-get "${opts[@]}" -y -qq install --download-only "${want_pkgs[@]}" >>"$log" 2>&1 || {
    cat "$log" >&2; die "apt-get could not download the pinned packages (mysql-server-core $MYSQL_DEB_VERSION and its dependencies): apt's message is above. If Debian unstable has moved on, update lab/mysql-debs.sha256"; }
  (cd "$DEBS" && sha256sum --quiet -c "$ROOT/lab/mysql-debs.sha256") >"$log.sum" 2>&1 || { cat "$log.sum" >&2; die "a package's checksum differs from lab/mysql-debs.sha256 (above)"; }
fi

rm -rf "$TREE.partial"; mkdir -p "$TREE.partial/bin"
for deb in $(pinned); do dpkg-deb -x "$DEBS/$deb" "$TREE.partial" || die "dpkg-deb -x $deb failed"; done
# Wrappers: a tool of the tree runs with the tree's glibc and libraries, never the system's.
for tool in mysqld mysql mysqldump mysqlbinlog mysqladmin; do
  dir=bin; [[ $tool == mysqld ]] && dir=sbin
  cat >"$TREE.partial/bin/$tool" <<WRAP
#!/bin/sh
T="\$(cd "\$(dirname "\$0")/.." && pwd)"
exec "\$T/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "\$T/usr/lib/x86_64-linux-gnu" "\$T/usr/$dir/$tool" "\$@"
WRAP
  chmod +x "$TREE.partial/bin/$tool"
done
"$TREE.partial/bin/mysqld" --version >/dev/null 2>&1 || die "the unpacked mysqld does not run: $("$TREE.partial/bin/mysqld" --version 2>&1 | tail -2)"
rm -rf "$TREE"; mv "$TREE.partial" "$TREE"
echo "$want" >"$STAMP"
echo "installed $MYSQL_DEB_VERSION in $TREE ($(pinned | wc -l) packages $how)"
