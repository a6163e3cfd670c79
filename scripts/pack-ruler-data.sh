#!/usr/bin/env bash
# Packs what cuda-device.sh's ruler step needs besides the device bundle: the llama-bpe vocabulary
# (the random model's tokenizer) and the haystack sources RULER's prompts are built from, as one
# xz archive small enough to travel beside the bundle (64 MiB in all):
#   ruler-data/ggml-vocab-llama-bpe.gguf   from the pinned llama.cpp source (models/)
#   ruler-data/datasets/                  wordnet, wamerican and SOURCES.tsv as installed, and the
#                                         State of the Union addresses before SOTU_BEFORE (1851):
#                                         390K words, where the essay haystack of a 64K-token prompt
#                                         takes the first ~50K (EssayHaystack: the first N words),
#                                         so prompts up to 64K tokens are those of the full install
# Usage: scripts/pack-ruler-data.sh [OUT_DIR]   (default .cache/device; env SOURCES: the installed
#   sources, default $RBENCH_DATA or .cache/datasets, installed by any RULER command when absent)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.cache/device}
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$root/pom.xml")
vocab=$root/.native/llama.cpp-$version/src/models/ggml-vocab-llama-bpe.gguf
sources=${SOURCES:-${RBENCH_DATA:-$root/.cache/datasets}}
before=${SOTU_BEFORE:-1851}
[ -f "$vocab" ] || { echo "pack-ruler-data: no $vocab (./rbench info installs the pinned llama.cpp)" >&2; exit 3; }
[ -f "$sources/wordnet/index.noun" ] && [ -d "$sources/sotu" ] \
  || { echo "pack-ruler-data: no haystack sources in $sources (./rbench ruler-gen installs them)" >&2; exit 3; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
d=$tmp/ruler-data
mkdir -p "$d/datasets/sotu" "$out"
cp "$vocab" "$d/"
cp -r "$sources"/{wordnet,wamerican,SOURCES.tsv} "$d/datasets/"
cp "$sources"/sotu/.installed "$d/datasets/sotu/" 2>/dev/null || true
for f in "$sources"/sotu/*.txt; do
  [ "$(basename "$f" | cut -c1-4)" -lt "$before" ] && cp "$f" "$d/datasets/sotu/"
done
tar cf - -C "$tmp" ruler-data | xz -9e -T0 >"$out/ruler-data.txz"
echo "pack-ruler-data: $(ls "$d/datasets/sotu" | grep -c txt) addresses before $before, $(du -h "$out/ruler-data.txz" | cut -f1) in $out/ruler-data.txz" >&2
