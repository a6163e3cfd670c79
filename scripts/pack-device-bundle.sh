#!/usr/bin/env bash
# Packs what a GPU machine without Java or network needs to run the suite:
#   OUT/jre.txz     a jlink'd Java runtime (only the modules the suite uses), xz
#   OUT/rbench.tgz  the launcher jar with its dependency jars (harness/target/{rbench.jar,lib})
#   OUT/llama-src.tgz  the llama.cpp source subset, to build the CUDA libraries there
#   OUT/ops-test-src.tgz  ggml's headers and test-backend-ops.cpp, patched (the ops-test step's, beside carried libraries)
#   OUT/kernel-times.txz  native/tools/kernel-times.c built against this machine's CUPTI, with that
#                   libcupti (only where a CUDA toolkit with CUPTI is installed; the profile step's timer)
# On that machine: tar xzf each, then
#   jre/bin/java --enable-native-access=ALL-UNNAMED -jar rbench/rbench.jar ...
# with RBENCH_LLAMACPP_DIR pointing at the libraries built by build-llamacpp.sh.
# Usage: scripts/pack-device-bundle.sh [OUT_DIR]   (default .cache/device, git-ignored)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.cache/device}
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$java_home/bin/jlink" ] || { echo "pack-device-bundle: needs a JDK 25 with jlink (set JAVA_HOME)" >&2; exit 3; }
mkdir -p "$out"
(cd "$root" && JAVA_HOME=$java_home ./mvnw -q -B -DskipTests install)
jar="$root/harness/target/rbench.jar"
modules=$("$java_home/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps \
  --class-path "$root/harness/target/lib/*" "$jar" | tail -1)
# java.desktop (AWT, 15 MB) only serves the analysis plots, which run where results are read,
# not on the GPU machine; leave it out unless asked (RBENCH_JLINK_DESKTOP=1).
[ "${RBENCH_JLINK_DESKTOP:-0}" = 1 ] || modules=$(echo "$modules" | tr ',' '\n' | grep -v '^java.desktop$' | paste -sd, -)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# An uncompressed image packed with xz is 15 MB where jlink's zip-6 image in a tgz is 26 MB:
# it matters, since everything carried to the GPU machine shares 64 MiB.
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=zip-0 --output "$tmp/jre"
rm -f "$out/jre.tgz"
tar cJf "$out/jre.txz" -C "$tmp" jre
mkdir -p "$tmp/rbench" && cp "$jar" "$tmp/rbench/" && cp -r "$root/harness/target/lib" "$tmp/rbench/lib"
# sqlite-jdbc (rbench history) carries native libraries for 25 platforms (12 MB): keep Linux x86_64's
for sq in "$tmp"/rbench/lib/sqlite-jdbc-*.jar; do
  [ -f "$sq" ] || continue
  mkdir -p "$tmp/sqlite" && (cd "$tmp/sqlite" && "$java_home/bin/jar" xf "$sq" \
    && find org/sqlite/native -mindepth 1 -maxdepth 1 ! -name Linux -exec rm -rf {} + \
    && find org/sqlite/native/Linux -mindepth 1 -maxdepth 1 ! -name x86_64 -exec rm -rf {} + \
    && rm -f "$sq" && "$java_home/bin/jar" --create --file "$sq" --manifest META-INF/MANIFEST.MF \
       $(ls -A | grep -v '^META-INF$') $(cd META-INF && ls -A | grep -v '^MANIFEST.MF$' | sed 's|^|META-INF/|'))
  rm -rf "$tmp/sqlite"
done
# the commit the jar was built from: results rows on the other machine carry it (RBENCH_SUITE_COMMIT)
commit=$(git -C "$root" rev-parse --short=12 HEAD)
[ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ] && commit="$commit+dirty"
echo "$commit" > "$tmp/rbench/COMMIT"
tar czf "$out/rbench.tgz" -C "$tmp" rbench
bash "$root/native/scripts/pack-llamacpp-source.sh" "$out/llama-src.tgz"
# what cuda-device.sh's ops-test step compiles test-backend-ops from, patched (ggml's public headers and the
# test): 0.1 MB where a call carries built libraries and no room is left for the whole source
mkdir -p "$tmp/src" && tar xzf "$out/llama-src.tgz" -C "$tmp/src"
src=$tmp/src/src   # the subset's own root folder
bash "$root/native/scripts/apply-patches.sh" "$src" pack-device-bundle 2>/dev/null
tar czf "$out/ops-test-src.tgz" -C "$src" ggml/include tests/test-backend-ops.cpp
# the profile step's per-kernel timer (native/tools/kernel-times.c) for machines without Nsight Systems,
# built against this machine's CUPTI when it has one (the CUDA toolkit's), beside that libcupti
rm -f "$out/kernel-times.txz"
if bash "$root/native/tools/build-kernel-times.sh" "$tmp/kernel-times" 2>/dev/null; then
  tar cJf "$out/kernel-times.txz" -C "$tmp" kernel-times
else
  echo "pack-device-bundle: no kernel-times.txz (no CUPTI to build the profile step's timer against)" >&2
fi
echo "pack-device-bundle: modules $modules" >&2
du -h "$out"/*.t?z >&2
