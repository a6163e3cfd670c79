#!/usr/bin/env bash
# The suite on a GPU machine without Java or network (the device tool's machine): unpack the
# bundle made by scripts/pack-device-bundle.sh, build the pinned llama.cpp for CUDA from its
# source subset (once: the libraries stay in .native while the machine is kept), then run steps.
#
#   bash scripts/cuda-device.sh STEP...      (from the repository root; logs under $OUT)
#
# Steps (every step but build, libs and pack-out runs the build step first where the libraries are missing, as
# on a fresh machine, or were built from other patches than this tree's and the source is in the bundle; a bench or
# scaling step whose methods name llama-bench runs the llama-bench step first):
#   build                 CUDA libraries -> .native/llama.cpp-<v>/lib/linux-x64-cuda (skipped when present and built
#                         from this tree's patches: rbench-patches.txt beside them, carried in the cuda-libs pieces)
#   diag                  load them from C and from Java, as built and in reduced sets; later steps use
#                         the first set Java loads
#   parity                rbench parity on CUDA: 5 architecture variants x F16/Q8_0 weights x
#                         full, recycled, streamingllm, h2o (F16 cache, flash attention); Recycled's Cp read in
#                         place (cp=inplace) with an F32 cache and an F16 one
#   queued                every method's steps queued ahead on CUDA against the same steps waited for
#                         (rbench parity --queued-only: known tokens and a generation fed on the device, budgets
#                         that do not cover the context; Llama-3.2-1B shapes; queued-summary.txt)
#   cross                 every method on CUDA against the same method on the CPU (rbench parity --against-cpu): the
#                         rows each layer reads, picks and logits, at budgets that select (a 6-layer tiny model, F32
#                         cache and F16 with flash attention; CROSS_METHODS; CROSS_TOKENS: the prompt, 512 (Quest's fused
#                         top_k takes rows of over 1,024 pages: 16,400 tokens and more); CROSS_LIKE: the preset, tiny-llama (2 query
#                         heads a KV head), or e.g. tiny-mistral (4); cross-summary.txt)
#   parity-diag           qwen2/qwen3 against llama.cpp on CUDA and on the CPU, fusions on and off
#   h2o                   H2O with its decisions on the host and on the device: parity and latency
#   dynamic               recycled-dynamic's checks on the host and in the step graph: parity of both, latency
#                         side by side at Llama-3.1-8B shapes (DYNAMIC_TYPE, DYNAMIC_CTX)
#   smoke                 rbench bench on CUDA, Llama-3.2-1B shapes, 8K: every method once
#   bench:TYPE:CTX,...    the latency table for Llama-3.1-8B shapes (TYPE f16 or q8_0): the engine against
#                         llama_decode (ENGINE_METHODS: full,llamacpp; add llama-bench after the llama-bench
#                         step), then the methods (METHODS; full joins a list that lacks it); BENCH_PARTS="engine
#                         methods" picks the halves
#   profile:TYPE:CTX      per-kernel GPU time of a full-attention and a Recycled Attention decode
#                         (PROFILE_METHODS: the method lists to profile, one run each; later runs minus the
#                         first, per step): nsys; without it CUPTI (native/tools/kernel-times.c,
#                         kernels-*-per-step.csv); without both, the suite's op profile (bench --op-profile;
#                         OP_PROFILE_METHODS, PROFILE_TOKENS, PROFILE_CONTEXT)
#   scaling[:CTX,...]     ms/token against context, 8K to 512K: full, Recycled, StreamingLLM and Quest on a
#                         random 8B Q8_0 model declaring a 512K context, synthetic cache (see step_scaling)
#   ruler:CONFIG          seconds per example: rbench run of a RULER config at 32K/64K on a random 8B Q8_0 model
#                         with the llama-bpe vocabulary (see step_ruler; needs ruler-data.txz in the bundle;
#                         RULER_RESUME=CSV continues an earlier call's results)
#   select:CTX,...        rbench bench-select: device time of a Recycled full step's pieces, one layer of
#                         Llama-3.1-8B's shape (no model needed; seconds)
#   reads:CTX,...         rbench bench-select --reads: how sparse steps select and read rows (argsort, top_k at once
#                         and head by head, of row and page scores; gathers), one layer of Llama-3.1-8B's shape
#   aot                   a JVM AOT cache from `rbench warmup` for the later steps (and later calls on this machine)
#   topk-bench            the block-a-row and cluster-a-row top_k of the radix-top-k patch alone (native/tools/top-k-bench.sh):
#                         its variants timed side by side and checked against a sort and each other, in a minute without
#                         the libraries (TOPK_BENCH_ARGS="ncols nrows group k reps")
#   ops-test              ggml's test-backend-ops, CUDA against the CPU, for the ops the suite's patches change
#                         and OUT_PROD (H2O's column sums) (native/patches; OPS_TEST: the op names, default GET_ROWS SOFT_MAX SOFT_MAX_GROUP_MAX TOP_K TOP_K_ADD_MASK ARGSORT MUL_RELU OUT_PROD FLASH_ATTN_GATHERED); logs ops-test-OP.log;
#                         OPS_TEST_MODE=perf: each case's time on CUDA0 instead (test-backend-ops' perf mode)
#   libs                  the built libraries (and llama-bench, after the llama-bench step) as $OUT/cuda-libs.txz.NN
#                         pieces (to carry to a later call in BUNDLE)
#   pack-out              everything else under $OUT into $OUT/results.tgz, beside steps.log and the cuda-libs
#                         pieces: the device tool brings back at most 8 files (last, after the steps that write)
#   llama-bench           stock llama-bench for CUDA (scripts/build-llama-bench.sh --backend cuda; skipped when
#                         built), where rbench bench's llama-bench method finds it
# Environment: BUNDLE (default .cache/device: jre.txz, rbench.tgz, llama-src.tgz; ruler-data.txz for ruler; with
#   cuda-libs.txz.NN in place of llama-src.tgz, scripts/pack-libs-bundle.sh, no build),
#   BENCH_DEADLINE (epoch seconds the bench, scaling and ruler steps end by), CALL_DEADLINE (epoch seconds after which
#   no step but pack-out starts: several invocations in one device call share one), BENCH_TOKENS and BENCH_REPEATS (the methods half's
#   decode steps, 50, and measurements, 3), BENCH_ARGS (more rbench bench options for bench's methods half, e.g. --no-queue-ahead with BENCH_TAG=-waited; BENCH_TAG also names the scaling, select, reads,
#   parity, cross and ops-test steps' files, e.g. BENCH_TAG=-rowblock0 GGML_CUDA_TOP_K_ROW_BLOCK_COLS=0 for the other top-k path), CUDA_ARCH (90),
#   JOBS (nproc), WORK (/tmp/rbcuda: models and unpacked runtime), OUT (results; default $WORK/out), RBENCH_JAVA_OPTS
#   (JVM options for every rbench run, after the chosen set's), GGML_CUDA_FA_GATHERED (0: flash attention never reads
#   gathered rows in place, an A/B; 2: ggml-cuda logs the reads it takes in place, with -Drbench.native.log=info),
#   GGML_CUDA_FA_GQA_MMA_KV (N: a decoded token's flash attention over N or more F16 rows with GQA runs the tensor-core
#   kernel, an A/B; it reaches llama-bench too), GGML_CUDA_FUSE_ADD_TOP_K (0: Quest's page mask and GQA max pool run as
#   their own nodes, not inside the top_k, an A/B; 2: ggml-cuda logs the first 64 fusion candidates' outcomes, with
#   RBENCH_JAVA_OPTS=-Drbench.native.log=info), GGML_CUDA_FA_VEC_GQA (1: such a decode runs the vector kernel a block per
#   KV head, its 4 query heads as columns, an A/B; 3: the same compiled for 3 blocks an SM; it reaches llama-bench too), GGML_CUDA_TOP_K_CLUSTER (0: every top_k row of
#   1,025 to 8,192 columns a block, 8 or 16: a cluster of that many blocks, Hopper on; unset: a cluster of 8 over 4,096
#   columns; topk-bench times both forms), KERNEL_TRACE (1: bench's methods half runs under the kernel-times library and writes
#   every kernel's device times and CUDA graph as trace-8b-TYPE${BENCH_TAG}.csv.gz), GGML_CUDA_FUSE_MUL_RELU (0: MUL and RELU as two kernels, an A/B), GGML_CUDA_FUSE_TOP_K_CONCAT (0: Quest's concat of the
#   current page and its top_k as its own kernel, an A/B), OPS_TEST_PARAMS (ops-test: only the cases whose parameters match
#   this regular expression, test-backend-ops -p; BENCH_TAG names the logs).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bundle=${BUNDLE:-$root/.cache/device}
work=${WORK:-/tmp/rbcuda}
out=${OUT:-$work/out}
mkdir -p "$work" "$out"
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' pom.xml)
base=$root/.native/llama.cpp-$version
libs=${LIBS:-$base/lib/linux-x64-cuda}
# where the llama-bench step builds stock llama-bench (scripts/build-llama-bench.sh --backend cuda)
llama_bench=$base/llama-bench-cuda/bin/llama-bench
log() { echo "$(date +%H:%M:%S) cuda-device: $*" | tee -a "$out/steps.log"; }

for t in jre rbench; do
  [ -d "$work/$t" ] && continue
  f=$(ls "$bundle/$t.txz" "$bundle/$t.tgz" 2>/dev/null | head -1)
  tar xf "$f" -C "$work" || { log "cannot unpack $t from $bundle"; exit 3; }
done
# the ruler step's vocabulary and haystack sources (scripts/pack-ruler-data.sh), when carried
[ -d "$work/ruler-data" ] || [ ! -f "$bundle/ruler-data.txz" ] || tar xJf "$bundle/ruler-data.txz" -C "$work"
java_opts="" java_env=""
# a set chosen by an earlier diag step (another invocation on the same machine)
[ -f "$work/chosen.env" ] && . "$work/chosen.env"
# the caller's own JVM options last (e.g. -Drbench.native.log=info: ggml's messages on stderr)
java_opts="$java_opts ${RBENCH_JAVA_OPTS:-}"
# a JVM AOT cache recorded on this machine by the aot step (rbench warmup), when there is one
[ -f "$work/rbench.aot" ] && java_opts="$java_opts -XX:AOTCache=$work/rbench.aot -Xlog:aot=off,cds=off"
# The java command line that runs rbench with the environment it needs, into the array rbench_cmd
# (one place for rbench and rbench_for).
rbench_command() {
  # the llama-bench step's binary, named when it is there: the carried tree is not a checkout, so rbench
  # cannot find .native by itself (RBENCH_LLAMA_BENCH set by the caller wins)
  local lb=${RBENCH_LLAMA_BENCH:-}
  [ -z "$lb" ] && [ "${BACKEND:-cuda}" = cuda ] && [ -x "$llama_bench" ] && lb=$llama_bench
  rbench_cmd=(env $java_env RBENCH_SUITE_COMMIT="$(cat "$work/rbench/COMMIT" 2>/dev/null)" RBENCH_LLAMACPP_DIR=$libs
    ${lb:+RBENCH_LLAMA_BENCH=$lb} "$work/jre/bin/java" --enable-native-access=ALL-UNNAMED -Xmx16g $java_opts
    -XX:ErrorFile="$out/hs_err_%p.log" -jar "$work/rbench/rbench.jar")
}
rbench() {
  rbench_command
  "${rbench_cmd[@]}" "$@"
}

# The suite's patches (names and checksums) that libraries were built with: the build step writes them beside the
# libraries (rbench-patches.txt, carried in the cuda-libs pieces too), so that libraries built from another version of
# the patches, kept on a warm machine or carried from an earlier call, are not taken for this tree's
patch_stamp() { bash "$root/scripts/patch-stamp.sh"; }
stamp_matches() { bash "$root/scripts/patch-stamp.sh" --matches "$1"; }
# a short name of the libraries' record, for the log (a results doc can tell which patches timed what)
libs_patch_id() { if [ -f "$libs/rbench-patches.txt" ]; then LC_ALL=C sort "$libs/rbench-patches.txt" | sha256sum | cut -c1-12; else echo unrecorded; fi; }
libs_match_patches() { stamp_matches "$libs/rbench-patches.txt"; }
# ok_or_rebuild WHAT (the libraries' name in the log): 0 where the libraries in $libs are this tree's patches' (or,
# lacking the source to build them again, are taken with a warning in steps.log); 1 where the build must run
ok_or_rebuild() {
  libs_match_patches && return 0
  local why="were built from other patches than this tree's"
  [ -f "$libs/rbench-patches.txt" ] || why="carry no record of their patches (rbench-patches.txt)"
  if [ -f "$bundle/llama-src.tgz" ]; then log "$1 $why: building from source"; return 1; fi
  log "WARNING: $1 $why, and no llama-src.tgz in the bundle to build them again: they are used as they are"
  return 0
}

# libs_load WHAT: 0 where every library in $libs finds what it needs on this machine (ldd: no "not found", such as a
# libstdc++ older than the one carried libraries were linked against elsewhere); else logs why and returns 1, and the
# build runs from source where the bundle has it (without it, the step fails: nothing could load them)
libs_load() {
  local missing
  missing=$(for so in "$libs"/*.so; do ldd "$so" 2>&1 | grep "not found" | sed "s|^|$(basename "$so"): |"; done | sort -u | head -5)
  [ -z "$missing" ] && return 0
  log "$1 cannot load on this machine: $(echo "$missing" | tr '\n' ';' | tr -s ' \t' ' ')"
  [ -f "$bundle/llama-src.tgz" ] && { log "building from source"; rm -f "$libs"/*.so*; return 1; }
  log "no llama-src.tgz to build from"; exit 1
}

step_build() {
  if [ -f "$libs/libggml-cuda.so" ]; then
    ok_or_rebuild "the CUDA libraries in $libs" && { log "CUDA libraries already in $libs (patches $(libs_patch_id))"; return 0; }
  elif [ -f "$bundle/cuda-libs.txz.00" ]; then
    # pieces hold the libraries' path under $base (and llama-bench), or the libraries alone at the root
    # (LIBS outside $base, and pieces packed before llama-bench joined them)
    local unpacked=$work/libs-unpacked rel=${libs#"$base"/}
    rm -rf "$unpacked" && mkdir -p "$unpacked" && cat "$bundle"/cuda-libs.txz.* | tar xJf - -C "$unpacked"
    if [ "$rel" != "$libs" ] && [ -f "$unpacked/$rel/libggml-cuda.so" ]; then
      mkdir -p "$base" && cp -a "$unpacked"/. "$base"/ && rm -rf "$unpacked"
      ok_or_rebuild "the bundle's cuda-libs pieces" && libs_load "the bundle's cuda-libs pieces" \
        && { log "CUDA libraries from the bundle$([ -x "$llama_bench" ] && echo ", with llama-bench") (patches $(libs_patch_id))"; return 0; }
    elif [ -f "$unpacked/libggml-cuda.so" ]; then
      mkdir -p "$libs" && cp -a "$unpacked"/. "$libs"/ && rm -rf "$unpacked"
      ok_or_rebuild "the bundle's cuda-libs pieces" && libs_load "the bundle's cuda-libs pieces" \
        && { log "CUDA libraries from the bundle (the libraries alone)"; return 0; }
    else
      rm -rf "$unpacked"
      log "the bundle's cuda-libs pieces hold no libggml-cuda.so for $libs: building from source"
    fi
  fi
  mkdir -p "$base"
  # the files the kept libraries' patches changed, touched once the source is unpacked again: a file that a patch no
  # longer changes comes back with the archive's older time stamp, and an incremental build would keep its old object
  local patched_before=""
  [ -f "$libs/rbench-patches.txt" ] && patched_before=$(sed -n 's/^file //p' "$libs/rbench-patches.txt")
  # the source unpacked afresh, so that the build takes this tree's patches (apply-patches.sh stops on a tree
  # patched with another version of them)
  if [ -f "$bundle/llama-src.tgz" ]; then rm -rf "$base/src" && tar xzf "$bundle/llama-src.tgz" -C "$base"; fi
  for f in $patched_before; do [ ! -f "$base/src/$f" ] || touch "$base/src/$f"; done
  local t0=$SECONDS
  # --native-cpu: these libraries serve this machine only, so one CPU backend will do
  nice -n "${BUILD_NICE:-0}" bash native/scripts/build-llamacpp.sh --backend "${BACKEND:-cuda}" --cuda-arch "${CUDA_ARCH:-90}" \
    --jobs "${JOBS:-$(nproc)}" --native-cpu >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; log "build FAILED"; return 1; }
  patch_stamp >"$libs/rbench-patches.txt"
  log "built in $((SECONDS - t0)) s (patches $(libs_patch_id)): $(ls "$libs" | tr '\n' ' ')"
  du -sh "$libs"/* | tee -a "$out/steps.log"
}

# Loads the libraries as built and in reduced sets (no CPU variants but the generic ones; no
# CUDA), from Java (rbench info) and from a C program, so one call tells where a crash at
# start-up comes from; later steps use the first set that loads.
step_diag() {
  (lscpu | head -20; gcc --version | head -1; ldd "$libs/libggml-cuda.so") >"$out/diag-system.txt" 2>&1
  local generic=$work/lib-generic nocuda=$work/lib-nocuda
  rm -rf "$generic" "$nocuda"; mkdir -p "$generic" "$nocuda"
  cp -a "$libs"/. "$generic"/ && find "$generic" -name 'libggml-cpu-*.so' ! -name 'libggml-cpu-x64.so' ! -name 'libggml-cpu-haswell.so' -delete
  cp -a "$libs"/. "$nocuda"/ && rm -f "$nocuda/libggml-cuda.so"
  cat >"$work/load.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/libggml.so", argv[1]);
  void *g = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!g) { printf("dlopen: %s\n", dlerror()); return 2; }
  void (*load_all)(const char *) = (void (*)(const char *)) dlsym(g, "ggml_backend_load_all_from_path");
  size_t (*count)(void) = (size_t (*)(void)) dlsym(g, "ggml_backend_dev_count");
  load_all(argv[1]);
  printf("C: %zu devices\n", count());
  snprintf(path, sizeof path, "%s/libggml-base.so", argv[1]);
  void *b = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  void *(*by_type)(int) = (void *(*)(int)) dlsym(g, "ggml_backend_dev_by_type");
  void *(*dev_init)(void *, const char *) = (void *(*)(void *, const char *)) dlsym(b, "ggml_backend_dev_init");
  void *gpu = by_type(1);
  if (gpu) { void *backend = dev_init(gpu, NULL); printf("C: GPU backend %s\n", backend ? "initialised" : "FAILED"); }
  printf("C: %zu devices, GPU %s\n", count(), gpu ? "yes" : "no");
  return 0;
}
C
  gcc -O1 -o "$work/load" "$work/load.c" -ldl >>"$out/diag-system.txt" 2>&1
  # A C host (no C++ runtime in the global scope, like the JVM) loading a model through libllama
  cat >"$work/loadmodel.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include "llama.h"
int main(int argc, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/libggml.so", argv[1]);
  void *g = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
  snprintf(path, sizeof path, "%s/libllama.so", argv[1]);
  void *l = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
  if (!g || !l) { printf("dlopen: %s\n", dlerror()); return 2; }
  void (*load_all)(const char *) = (void (*)(const char *)) dlsym(g, "ggml_backend_load_all_from_path");
  struct llama_model_params (*defaults)(void) = (struct llama_model_params (*)(void)) dlsym(l, "llama_model_default_params");
  struct llama_model *(*load)(const char *, struct llama_model_params) =
      (struct llama_model *(*)(const char *, struct llama_model_params)) dlsym(l, "llama_model_load_from_file");
  load_all(argv[1]);
  struct llama_model_params p = defaults();
  p.n_gpu_layers = 999;
  struct llama_model *m = load(argv[2], p);
  printf("C: model %s\n", m ? "loaded" : "NOT loaded");
  return 0;
}
C
  gcc -O1 -I"$base/src/include" -I"$base/src/ggml/include" -o "$work/loadmodel" "$work/loadmodel.c" -ldl >>"$out/diag-system.txt" 2>&1
  "$work/loadmodel" "$libs" "$(model tiny-llama f16)" >"$out/diag-c-model.txt" 2>&1
  log "diag C host loading a model: rc $? ($(tail -1 "$out/diag-c-model.txt"))"
  LD_PRELOAD=$(g++ -print-file-name=libstdc++.so.6) "$work/loadmodel" "$libs" "$(model tiny-llama f16)" >"$out/diag-c-model-preload.txt" 2>&1
  log "diag C host loading a model, libstdc++ preloaded: rc $? ($(tail -1 "$out/diag-c-model-preload.txt"))"
  local chosen="" chosen_opts="" chosen_env="" stdcxx
  stdcxx=$(g++ -print-file-name=libstdc++.so.6 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/libstdc++.so.6)
  # label | environment | java options | libraries
  for config in "as-built|||$libs" "no-stdcxx-preload|RBENCH_PRELOAD_STDCXX=0||$libs" \
                "ld-preload-stdcxx|LD_PRELOAD=$stdcxx||$libs" "bind-now|LD_BIND_NOW=1 RBENCH_PRELOAD_STDCXX=0||$libs" \
                "generic-cpu|||$generic" "no-cuda|||$nocuda"; do
    IFS='|' read -r name env opts set <<<"$config"
    "$work/load" "$set" >"$out/diag-c-$name.txt" 2>&1; local crc=$?
    env $env RBENCH_LLAMACPP_DIR=$set "$work/jre/bin/java" --enable-native-access=ALL-UNNAMED $opts \
      -XX:ErrorFile="$out/hs_err_info_$name.log" -jar "$work/rbench/rbench.jar" info >"$out/diag-java-$name.txt" 2>&1 \
      && env $env RBENCH_LLAMACPP_DIR=$set "$work/jre/bin/java" --enable-native-access=ALL-UNNAMED $opts \
      -XX:ErrorFile="$out/hs_err_parity_$name.log" -jar "$work/rbench/rbench.jar" parity --backend "${BACKEND:-cuda}" \
      --model "$(model tiny-llama f16)" --tokens 64 --steps 8 >>"$out/diag-java-$name.txt" 2>&1
    local jrc=$?
    log "diag $name: C load rc $crc ($(tail -1 "$out/diag-c-$name.txt")), rbench info + parity rc $jrc"
    if [ $jrc = 0 ] && [ -z "$chosen" ] && [ "$set" != "$nocuda" ]; then chosen=$set; chosen_opts=$opts; chosen_env=$env; fi
  done
  if [ -n "$chosen" ]; then
    libs=$chosen; java_opts=$chosen_opts; java_env=$chosen_env
    log "using libraries in $libs, java options '$java_opts', environment '$java_env'"
    printf 'libs=%q\njava_opts=%q\njava_env=%q\n' "$libs" "$java_opts" "$java_env" >"$work/chosen.env"
  else
    log "no CUDA library set loads"
  fi
}

# aot: record a JVM AOT cache from `rbench warmup` on this backend (classes linked, JIT
# profiles: the first graph builds of a process cost less); later rbench calls use it
step_llama_bench() {
  mkdir -p "$base"
  # build-llama-bench.sh returns at once where it is built (the carried cuda-libs pieces hold it when packed
  # after this step), before it needs the source
  [ -d "$base/src" ] || [ ! -f "$bundle/llama-src.tgz" ] || tar xzf "$bundle/llama-src.tgz" -C "$base"
  local t0=$SECONDS
  # in the suite's own CUDA build tree when this machine built the libraries (seconds), else on its own
  local from=source
  [ -f "$base/build-cuda/CMakeCache.txt" ] && from=prebuilt
  nice -n "${BUILD_NICE:-0}" bash scripts/build-llama-bench.sh --backend cuda --libs "$from" --cuda-arch "${CUDA_ARCH:-90}" \
    --jobs "${JOBS:-$(nproc)}" >"$out/build-llama-bench.log" 2>&1 || { tail -40 "$out/build-llama-bench.log"; log "llama-bench build FAILED"; return 1; }
  log "llama-bench in $((SECONDS - t0)) s: $(tail -1 "$out/build-llama-bench.log")"
}

# pack-out: the logs and CSVs of the steps so far in one archive ($OUT/results.tgz), the files it holds removed, so that
# a call's results fit the device tool's 8 files; steps.log and the cuda-libs pieces stay as they are
step_pack_out() {
  local files
  files=$(cd "$out" && find . -maxdepth 1 -type f ! -name results.tgz ! -name steps.log ! -name 'cuda-libs.txz.*' -printf '%f\n' | sort)
  [ -n "$files" ] || { log "pack-out: nothing to pack"; return 0; }
  # the archive is made anew from the last one's contents and the new files: a second pack-out in one call adds to it
  local stage=$work/pack-out
  rm -rf "$stage" && mkdir -p "$stage"
  { [ ! -f "$out/results.tgz" ] || tar xzf "$out/results.tgz" -C "$stage"; } \
    && (cd "$out" && echo "$files" | xargs cp -t "$stage") \
    && (cd "$stage" && tar czf "$out/results.tgz" .) || { log "pack-out FAILED"; return 1; }
  rm -rf "$stage"
  (cd "$out" && echo "$files" | xargs rm -f)
  log "pack-out: $(echo "$files" | wc -l) files into results.tgz ($(du -h "$out/results.tgz" | cut -f1))"
}

# cross: each method's choices on the device against the CPU's, at budgets below the context (parity's
# covering budgets select nothing, and queued compares the GPU with itself)
step_cross() {
  local like=${CROSS_LIKE:-tiny-llama} fails=0 n=0 cache method tokens=${CROSS_TOKENS:-512}
  # a context past the presets' 4,096 where the prompt asks for one (the prompt, 32 steps, and room)
  local context=$(( tokens + 1024 > 4096 ? tokens + 1024 : 4096 ))
  local m=$work/models/$like-6-layers-f16-$context.gguf cross_log=$out/cross${BENCH_TAG:-}.log summary=$out/cross${BENCH_TAG:-}-summary.txt
  mkdir -p "$work/models"
  [ -f "$m" ] || rbench make-model --like "$like" --type f16 --layers 6 --context "$context" --out "$m" >>"$out/models.log" 2>&1 \
    || { log "cross: no model (models.log)"; return 1; }
  local methods=${CROSS_METHODS:-"quest:k=64,dense=1 quest:k=64,dense=1,gqa=query tidaldecode:k=64 h2o:k=64 streamingllm:k=64 snapkv:k=64 pyramidkv:k=64 recycled:k=64,s=8 recycled-dynamic:k=64 oracle:k=64"}
  for cache in f32 f16; do
    for method in $methods; do
      n=$((n + 1))
      if rbench parity --backend "${BACKEND:-cuda}" --model "$m" --tokens "$tokens" --steps 32 --cache "$cache" --method "$method" \
           --against-cpu >>"$cross_log" 2>&1; then
        echo "PASS $method $cache" >>"$summary"
      else
        fails=$((fails + 1)); echo "FAIL $method $cache" >>"$summary"
      fi
    done
  done
  log "cross ($like): $((n - fails)) of $n passed ($(basename "$summary"), $(basename "$cross_log"))"
  [ "$fails" -eq 0 ]
}

# The llama.cpp source at $base/src, unpacked from the bundle where the build step has not left it; 1 where the bundle
# carries none
unpacked_source() {
  mkdir -p "$base"
  [ -d "$base/src" ] || { [ -f "$bundle/llama-src.tgz" ] && tar xzf "$bundle/llama-src.tgz" -C "$base"; }
}

step_ops_test() {
  local dir=$work/ops-test ggml t0=$SECONDS src=$base/src
  if unpacked_source; then
    # the suite's test cases come with its patches (a source the build step patched stays as it is)
    bash native/scripts/apply-patches.sh "$src" ops-test >/dev/null
  else
    # carried libraries leave no room for the source: its headers and the test, patched (pack-device-bundle.sh)
    src=$work/ops-test-src
    mkdir -p "$src" && tar xzf "$bundle/ops-test-src.tgz" -C "$src" || { log "ops-test: no llama-src.tgz or ops-test-src.tgz"; return 1; }
  fi
  ggml=$(ls "$libs"/libggml.so "$libs"/libggml.v*.so 2>/dev/null | head -1)
  mkdir -p "$dir"
  # beside links to the libraries: ggml loads its backends from the program's folder
  for so in "$libs"/*.so; do ln -sfn "$so" "$dir/"; done
  # built once for this tree's patches (their test cases come with them): a binary kept from other patches is built again
  if [ ! -x "$dir/test-backend-ops" ] || ! stamp_matches "$dir/rbench-patches.txt"; then
    g++ -O1 -std=c++17 -I"$src/ggml/include" "$src/tests/test-backend-ops.cpp" \
      -o "$dir/test-backend-ops" -L"$libs" "-l:$(basename "$ggml")" -l:libggml-base.so -Wl,-rpath,"$libs" -pthread \
      >"$out/ops-test-build.log" 2>&1 || { tail -20 "$out/ops-test-build.log"; log "test-backend-ops build FAILED"; return 1; }
    patch_stamp >"$dir/rbench-patches.txt"
  fi
  for op in ${OPS_TEST:-GET_ROWS SOFT_MAX SOFT_MAX_GROUP_MAX TOP_K TOP_K_ADD_MASK ARGSORT MUL_RELU OUT_PROD FLASH_ATTN_GATHERED}; do
    local op_log=$out/ops-test-$op${BENCH_TAG:-}.log
    # GGML_CUDA_FA_GATHERED=2: ggml-cuda logs how many flash attention reads took gathered rows in place (on stderr:
    # stdout unbuffered, so that each message follows its case's name)
    (cd "$dir" && GGML_CUDA_FA_GATHERED=${GGML_CUDA_FA_GATHERED:-2} $(command -v stdbuf >/dev/null && echo stdbuf -o0) \
      ./test-backend-ops "${OPS_TEST_MODE:-test}" -b CUDA0 -o "$op" ${OPS_TEST_PARAMS:+-p "$OPS_TEST_PARAMS"}) >"$op_log" 2>&1
    local rc=$?
    if [ "${OPS_TEST_MODE:-test}" = perf ]; then
      log "test-backend-ops perf $op${OPS_TEST_PARAMS:+ (cases matching $OPS_TEST_PARAMS)}${BENCH_TAG:+ ($BENCH_TAG)} on CUDA0: rc $rc, $(grep -c 'us/run' "$op_log") cases timed ($(basename "$op_log"))"
      continue
    fi
    log "test-backend-ops $op${OPS_TEST_PARAMS:+ (cases matching $OPS_TEST_PARAMS)}${BENCH_TAG:+ ($BENCH_TAG)} on CUDA0: rc $rc, $(grep -c 'OK' "$op_log") OK, $(grep -c 'FAIL' "$op_log") FAIL lines$(
      n=$(grep -c ' [1-9][0-9]* of [0-9]* flash attention reads' "$op_log"); [ "$n" -gt 0 ] && echo ", $n graphs read gathered rows in place")"
  done
  log "ops-test in $((SECONDS - t0)) s"
}

# topk-bench: native/tools/top-k-bench.sh on this tree's patched top-k.cu: the block-a-row top_k alone, its variants
# side by side (early exit, 256 to 1,024 threads), checked against a sort; a minute, and no libraries needed
# (TOPK_BENCH_ARGS: ncols nrows group k reps; default Quest's 131K choice on Llama-3.1-8B)
step_topk_bench() {
  local src=$base/src t0=$SECONDS
  unpacked_source || { log "topk-bench: no llama-src.tgz"; return 1; }
  bash native/scripts/apply-patches.sh "$src" topk-bench >"$out/top-k-bench.log" 2>&1 \
    || { log "topk-bench: the source would not take the patches (top-k-bench.log)"; return 1; }
  # shellcheck disable=SC2086 # the arguments are words
  CUDA_ARCH=${CUDA_ARCH:-90} bash native/tools/top-k-bench.sh "$src/ggml/src/ggml-cuda/top-k.cu" "$out" ${TOPK_BENCH_ARGS:-} \
    >>"$out/top-k-bench.log" 2>&1
  local rc=$? right=0 wrong=0
  if [ -f "$out/top-k-bench.csv" ]; then
    # a row is wrong where any of its checks (same_set, same_order, prefix_layout) says NO
    right=$(tail -n +2 "$out/top-k-bench.csv" | grep ',yes' | grep -vc ',NO' || true)
    wrong=$(tail -n +2 "$out/top-k-bench.csv" | grep -c ',NO' || true)
  fi
  log "topk-bench: rc $rc after $((SECONDS - t0)) s, $right rows with checks passed, $wrong with one failed (top-k-bench.csv, top-k-bench.log)"
}

step_aot() {
  [ -f "$work/rbench.aot" ] && { log "AOT cache already in $work"; return 0; }
  java_opts="$java_opts -XX:AOTCacheOutput=$work/rbench.aot" rbench warmup --backend "${BACKEND:-cuda}" >"$out/aot.log" 2>&1
  if [ -f "$work/rbench.aot" ]; then
    java_opts="$java_opts -XX:AOTCache=$work/rbench.aot -Xlog:aot=off,cds=off"; log "AOT cache recorded ($(du -h "$work/rbench.aot" | cut -f1))"
  else
    log "no AOT cache (aot.log)"
  fi
}

step_libs() { # xz: the pieces are carried back within the 64 MiB a call may take
  # The archive holds the libraries' path under $base, symbols stripped from a copy (2 MB less to carry:
  # libraries, jars, the runtime and RULER's data share 64 MiB), and llama-bench when the llama-bench step
  # built it in the suite's build tree (--libs prebuilt: its folder links to these libraries, where a build
  # of its own holds a second copy of them), so that a later call has the same stock reference unbuilt
  local bench="" copy=$work/libs-stripped from=$base rel=${libs#"$base"/}
  [ "$rel" = "$libs" ] && { from=$libs; rel=.; } # LIBS outside $base: the libraries alone, at the root
  [ "$from" = "$base" ] && [ -x "$llama_bench" ] \
    && { [ ! -e "$base/llama-bench-cuda/bin/libggml-cuda.so" ] || [ -L "$base/llama-bench-cuda/bin/libggml-cuda.so" ]; } \
    && bench=llama-bench-cuda/bin
  rm -rf "$copy" && mkdir -p "$copy" && (cd "$from" && tar cf - "$rel" $bench) | tar xf - -C "$copy"
  find "$copy" -type f -name '*.so*' -exec strip --strip-unneeded {} + 2>/dev/null
  (cd "$copy" && tar cf - . | xz -T0 -6) | split -b 15m -d - "$out/cuda-libs.txz."
  rm -rf "$copy"
  log "libraries packed: $(du -ch "$out"/cuda-libs.txz.* | tail -1)"
}

model() { # model NAME TYPE [CONTEXT [VOCAB_GGUF]] -> path (made once; a killed make leaves no file behind)
  local f=$work/models/$1-$2${3:+-ctx$3}${4:+-$(basename "$4" .gguf | sed 's/^ggml-vocab-//')}.gguf
  mkdir -p "$work/models"
  [ -f "$f" ] || { rbench make-model --like "$1" --type "$2" ${3:+--context "$3"} ${4:+--vocab "$4"} --out "$f.tmp" \
    >>"$out/models.log" 2>&1 && mv "$f.tmp" "$f"; }
  echo "$f"
}

# rbench_for SECONDS ARGS...: rbench, sent SIGINT after SECONDS (a sweep finishes the sample it is on,
# a bench stops where it is: rows are appended as they are measured), killed 150 s after that
rbench_for() {
  local secs=$1; shift
  [ "$secs" -gt 0 ] || secs=1
  rbench_command
  timeout -s INT -k 150 "$secs" "${rbench_cmd[@]}" "$@"
}
seconds_left() { echo $(( ${BENCH_DEADLINE:-$(( $(date +%s) + 100000 ))} - $(date +%s) )); }

step_queued() {
  local fails=0 n=0 m method
  m=$(model llama-3.2-1b q8_0)
  for method in full "recycled:k=256,s=8" "recycled-dynamic:k=256,qc=4" "quest:k=256,dense=1" \
      "tidaldecode:k=256,select=1,reselect=8" "h2o:k=256" "h2o:k=256,gqa=mean" "streamingllm:k=256" \
      "streamingllm:k=1040" "oracle:k=256" "snapkv:k=256"; do
    n=$((n + 1))
    if rbench parity --backend "${BACKEND:-cuda}" --queued-only --model "$m" --cache f16 --tokens 1024 --steps 48 \
        --method "$method" >>"$out/queued.log" 2>&1; then echo "PASS $method" >>"$out/queued-summary.txt"
    else fails=$((fails + 1)); echo "FAIL $method" >>"$out/queued-summary.txt"; fi
  done
  log "queued: $((n - fails)) of $n passed (queued-summary.txt, queued.log)"
}

step_parity() {
  local fails=0 n=0
  local parity_log=$out/parity${BENCH_TAG:-}.log summary=$out/parity${BENCH_TAG:-}-summary.txt
  check() { # check LABEL rbench-parity-args...
    local label=$1; shift; n=$((n + 1))
    if rbench parity --backend "${BACKEND:-cuda}" "$@" >>"$parity_log" 2>&1; then echo "PASS $label" >>"$summary"
    else fails=$((fails + 1)); echo "FAIL $label" >>"$summary"; fi
  }
  # every architecture variant, full attention, F16 cache with flash attention (every logit within 1e-2 of its row's scale)
  local types="f16 q8_0" variants="tiny-llama tiny-llama3 tiny-qwen2 tiny-qwen3 tiny-mistral" exact="tiny-llama tiny-qwen2"
  if [ "${PARITY:-}" = quick ]; then types=f16; variants="tiny-llama tiny-qwen3"; exact=""; fi
  for like in $variants; do
    for type in $types; do
      check "$like $type full f16-cache" --model "$(model "$like" "$type")" --cache f16
    done
  done
  # every strategy with a budget covering the context must equal full attention: exact mode
  # (with an F16 cache the gathered rows sum in another order, ~1e-3, and near-ties flip argmax)
  for type in $types; do
    for method in "recycled:k=512,s=8" "recycled:k=512,s=8,version=v1" "recycled:k=512,s=8,cp=inplace" "streamingllm:k=512" "h2o:k=512"; do
      check "tiny-llama $type $method f32-exact" --model "$(model tiny-llama "$type")" --cache f32 --method "$method"
    done
  done
  # Cp read in place from an F16 cache (as the suite's CUDA build reads gathered rows: flash attention where the cache
  # holds them), against llama.cpp as full attention with an F16 cache is
  for type in $types; do
    check "tiny-llama $type recycled:k=512,s=8,cp=inplace f16-cache" --model "$(model tiny-llama "$type")" --cache f16 \
      --method "recycled:k=512,s=8,cp=inplace"
  done
  # the exact mode: F32 cache, no flash attention, every logit within 1e-4
  for like in $exact; do
    check "$like f16 full f32-exact" --model "$(model "$like" f16)" --cache f32
  done
  log "parity: $((n - fails)) of $n passed ($(basename "$summary"), $(basename "$parity_log"))"
}

# parity-diag: where the engine parts from llama.cpp on CUDA with an F16 cache, for the NEOX-rope
# variants (qwen2, qwen3) and llama as the control (DIAG_MODELS; what it showed:
# docs/results/2026-11-28-cuda-8b-h200-session6.md, section 1). Each line holds the engine on
# CUDA against llama.cpp on CUDA (or on the CPU), with ggml-cuda's fusions, its programmatic
# dependent launch (PDL, Hopper and later) or CUDA graphs off, or the prompt in graphs of one
# token (the decode steps' kernels). parity-diag.txt: one summary line per run.
step_parity_diag() {
  local f=$out/parity-diag.txt
  run() { # run LABEL ENV JAVA-OPTIONS rbench-parity-args...
    local label=$1 e=$2 jo=$3; shift 3
    echo "== $label" >>"$f"
    # the script's rbench, with this run's environment and JVM options added
    ( [ -n "$e" ] && export $e; java_opts="$java_opts $jo"; rbench parity --backend "${B:-cuda}" --cache f16 "$@" ) 2>&1 \
      | grep -E "^full:|^PASS|^FAIL|Exception|rror" | head -4 >>"$f"
  }
  for like in ${DIAG_MODELS:-tiny-qwen2 tiny-qwen3 tiny-llama}; do
    local m; m=$(model "$like" f16)
    for x in ${DIAG_RUNS:-plain cpu-ref fusion-off fusion-off-cpu-ref prompt-128 graphs-off}; do
      case $x in
        plain) run "$like cuda vs cuda" "" "" --model "$m" ;;
        cpu-ref) run "$like cuda vs cpu" "" "" --model "$m" --reference cpu ;;
        fusion-off) run "$like cuda vs cuda, fusion off" GGML_CUDA_DISABLE_FUSION=1 "" --model "$m" ;;
        fusion-off-cpu-ref) run "$like cuda vs cpu, fusion off" GGML_CUDA_DISABLE_FUSION=1 "" --model "$m" --reference cpu ;;
        prompt-128) run "$like cuda vs cuda, 128 + 64 (rows within 256)" "" "" --model "$m" --tokens 128 ;;
        graphs-off) run "$like cuda vs cuda, graphs off" GGML_CUDA_DISABLE_GRAPHS=1 "" --model "$m" ;;
        pdl-off) run "$like cuda vs cuda, PDL off" GGML_CUDA_PDL=0 "" --model "$m" ;;
        pdl-off-cpu-ref) run "$like cuda vs cpu, PDL off" GGML_CUDA_PDL=0 "" --model "$m" --reference cpu ;;
        mb1) run "$like cuda vs cuda, prompt in 1-token graphs" "" "" --model "$m" --micro-batch 1 ;;
        mb1-pdl-off) run "$like cuda vs cuda, prompt in 1-token graphs, PDL off" GGML_CUDA_PDL=0 "" --model "$m" --micro-batch 1 ;;
        q8) run "$like q8_0 cuda vs cuda" "" "" --model "$(model "$like" q8_0)" ;;
        q8-pdl-off) run "$like q8_0 cuda vs cuda, PDL off" GGML_CUDA_PDL=0 "" --model "$(model "$like" q8_0)" ;;
      esac
    done
  done
  [ -z "${DIAG_RUNS:-}" ] && B=cpu run "tiny-qwen2 cpu vs cpu" "" "" --model "$(model tiny-qwen2 f16)"
  log "parity-diag: $(grep -c '^PASS' "$f") PASS, $(grep -c '^FAIL' "$f") FAIL (parity-diag.txt)"
}

# h2o: H2O's decisions on the host against those in the step's graph (decide=host|device) on
# CUDA: parity of both against full attention on tiny-llama (the same decisions give the same
# difference), then both forms' decode latency side by side (BENCH_LIKE, default llama-3.2-1b,
# F16, at H2O_CTX, default 32768; steps CSV for the per-step parts)
step_h2o() {
  local m; m=$(model tiny-llama f16)
  for d in host device; do
    rbench parity --backend "${BACKEND:-cuda}" --model "$m" --cache f32 --tokens 256 --steps 32 \
      --method "h2o:heavy=100,recent=100,decide=$d" 2>&1 | grep -E "^h2o|PASS|FAIL|rror" >>"$out/h2o-parity.log"
  done
  log "h2o parity: $(grep -c . "$out/h2o-parity.log") lines (h2o-parity.log)"
  m=$(model "${BENCH_LIKE:-llama-3.2-1b}" f16)
  rbench bench --model "$m" --backend "${BACKEND:-cuda}" --fill synthetic --ctx "${H2O_CTX:-32768}" --tokens 50 --repeats 3 \
    --methods "full,h2o:k=4096,decide=host,h2o:k=4096,decide=device" --out "$out/h2o-bench.csv" \
    --steps-out "$out/h2o-steps.csv" 2>&1 | grep -v "^WARNING" >>"$out/h2o-bench.log"
  log "h2o bench: rc ${PIPESTATUS[0]}"
}

# dynamic: recycled-dynamic's checks made on the host, layer by layer, and in the step graph (decide=device)
# on CUDA: parity of both against full attention on tiny-llama (equal decisions give equal differences; a
# covering budget gives full attention's logits), then decode latency side by side at Llama-3.1-8B shapes
# (DYNAMIC_TYPE, default q8_0; DYNAMIC_CTX, default 32768; steps CSV for the check steps), with full
# attention and fixed Recycled; threshold=-1 never takes a full step, so it shows what the checks cost.
step_dynamic() {
  local m d spec; m=$(model tiny-llama f16)
  for d in host device; do
    for spec in "recycled-dynamic:k=64,qc=2,threshold=0.1,decide=$d" "recycled-dynamic:k=4096,qc=2,decide=$d"; do
      rbench parity --backend "${BACKEND:-cuda}" --model "$m" --cache f32 --tokens 256 --steps 32 --method "$spec" 2>&1 \
        | grep -E "^recycled|PASS|FAIL|rror" >>"$out/dynamic-parity.log"
    done
  done
  log "dynamic parity: $(grep -c PASS "$out/dynamic-parity.log") PASS, $(grep -c FAIL "$out/dynamic-parity.log") FAIL (dynamic-parity.log)"
  m=$(model "${DYNAMIC_LIKE:-llama-3.1-8b}" "${DYNAMIC_TYPE:-q8_0}")
  rbench bench --model "$m" --backend "${BACKEND:-cuda}" --fill synthetic --ctx "${DYNAMIC_CTX:-32768}" --tokens 50 --repeats 3 \
    --methods "full,recycled:k=4096,s=50,recycled-dynamic:k=4096,decide=host,recycled-dynamic:k=4096,decide=device,recycled-dynamic:k=4096,threshold=-1,decide=device" \
    --out "$out/dynamic-bench.csv" --steps-out "$out/dynamic-steps.csv" 2>&1 | grep -v "^WARNING" | tee -a "$out/dynamic-bench.log"
  log "dynamic bench: rc ${PIPESTATUS[0]}"
}

step_smoke() {
  local m; m=$(model llama-3.2-1b q8_0)
  rbench bench --model "$m" --backend "${BACKEND:-cuda}" --fill prefill --ctx 8192 --tokens 50 --repeats 1 \
    --methods "full,llamacpp,recycled:k=1024,s=50,streamingllm:k=1024,h2o:k=1024" \
    --out "$out/smoke.csv" >>"$out/smoke.log" 2>&1 && log "smoke bench done" || { tail -30 "$out/smoke.log"; log "smoke bench FAILED"; }
}

step_bench() { # bench:TYPE:CTX,CTX
  local type=$1 ctx=$2 m
  local t0=$SECONDS
  m=$(model "${BENCH_LIKE:-llama-3.1-8b}" "$type")
  log "${BENCH_LIKE:-llama-3.1-8b} $type model ready after $((SECONDS - t0)) s ($(du -h "$m" | cut -f1))"
  # BENCH_DEADLINE (epoch seconds): each half gets its share of the time left, so a slow
  # half cannot starve the other (rows are appended as they are measured)
  local left=$(( ${BENCH_DEADLINE:-$(( $(date +%s) + 100000 ))} - $(date +%s) ))
  # BENCH_PARTS: which halves run ("engine methods" by default)
  local parts=${BENCH_PARTS:-engine methods}
  # METHODS: the strategies' half; rbench bench measures every method against full attention,
  # so full joins a list that lacks it (an A/B of a few methods under other switches, say)
  local methods=${METHODS:-full,recycled:k=4096,s=50,streamingllm:k=4096,h2o:k=4096}
  case ",$methods," in
    *,full,*) ;;
    *) methods="full,$methods"; log "bench: full added to METHODS ($methods)" ;;
  esac
  # each half runs rbench's own command line under timeout (rbench_command: every path it needs, llama-bench's too)
  rbench_command
  # (1) the engine's full attention against stock llama_decode: both prefill the same random
  # tokens, then decode the same 50 tokens, interleaved, 3 times
  if [[ " $parts " == *" engine "* ]]; then
    OUT="$out" timeout $(( left / 2 )) "${rbench_cmd[@]}" bench --model "$m" --backend "${BACKEND:-cuda}" --fill prefill \
      --ctx "$ctx" --tokens 50 --repeats 3 --methods "${ENGINE_METHODS:-full,llamacpp}" \
      --out "$out/bench-8b-$type${BENCH_TAG:-}-engine.csv" 2>&1 | grep -v "^WARNING" | tee -a "$out/bench-8b-$type${BENCH_TAG:-}.log"
    log "bench $type engine vs llama.cpp $ctx: rc ${PIPESTATUS[0]} after $((SECONDS - t0)) s"
  fi
  left=$(( ${BENCH_DEADLINE:-$(( $(date +%s) + 100000 ))} - $(date +%s) ))
  # (2) the strategies on the engine, the cache seeded with random K/V rows (decode latency only)
  if [[ " $parts " == *" methods "* ]]; then
    # KERNEL_TRACE=1: under the kernel-times library, every kernel's device start and end and its CUDA graph
    # (0: launched uncaptured) as trace-8b-TYPE${BENCH_TAG}.csv.gz (native/tools/kernel-trace-steps.py splits it by step)
    # (a llama-bench method's own process inherits the library too: trace methods without it)
    local inject=() kt trace=""
    if [ "${KERNEL_TRACE:-0}" = 1 ]; then
      if kt=$(kernel_times_lib); then
        trace=$work/trace-8b-$type${BENCH_TAG:-}.csv
        rm -f "$trace" # never pack an earlier run's trace as this one's
        inject=(CUDA_INJECTION64_PATH="$kt" KERNEL_TIMES_OUT="$out/kernels-8b-$type${BENCH_TAG:-}.csv" KERNEL_TIMES_TRACE="$trace")
      else
        log "KERNEL_TRACE: no kernel-times library (profile.log): the bench runs untraced"
      fi
    fi
    env ${inject[@]+"${inject[@]}"} OUT="$out" timeout $(( left > 0 ? left : 1 )) "${rbench_cmd[@]}" bench --model "$m" --backend "${BACKEND:-cuda}" \
      --fill synthetic --ctx "$ctx" --tokens "${BENCH_TOKENS:-50}" --repeats "${BENCH_REPEATS:-3}" --methods "$methods" \
      --out "$out/bench-8b-$type${BENCH_TAG:-}-methods.csv" --steps-out "$out/bench-8b-$type${BENCH_TAG:-}-steps.csv" ${BENCH_ARGS:-} \
      2>&1 | grep -v "^WARNING" | tee -a "$out/bench-8b-$type${BENCH_TAG:-}.log"
    log "bench $type methods $ctx: rc ${PIPESTATUS[0]} after $((SECONDS - t0)) s"
    if [ -n "$trace" ] && [ -f "$trace" ]; then
      gzip -c "$trace" >"$trace.gz" && mv "$trace.gz" "$out/" && rm -f "$trace"
      log "kernel trace: $(ls -s "$out/$(basename "$trace").gz" | cut -d' ' -f1) KiB"
    fi
  fi
}

# scaling[:CTX,...]: decode ms/token against context, 8K to 512K, on a random Llama-3.1-8B-shaped model
# (SCALING_TYPE, default q8_0) that declares a 512K-token context (make-model --context 524288), the
# cache filled with random rows (bench --fill synthetic: the engine's cache is sized for the deepest
# length, 64 GiB of F16 at 524000 tokens; a snapshot is a rewind point, no host copy). The deepest
# and the shallowest lengths come first, so a deadline that cuts the run leaves the comparison that
# matters (Recycled at 512K against its own 8K figure). SCALING_METHODS, SCALING_TOKENS (100: two
# of Recycled's S=50 periods per measurement), SCALING_REPEATS (3). Within BENCH_DEADLINE.
step_scaling() {
  local ctx=${1:-8192,524000,32768,131000,262000} type=${SCALING_TYPE:-q8_0} m t0=$SECONDS
  m=$(model "${SCALING_LIKE:-llama-3.1-8b}" "$type" "${SCALING_CONTEXT:-524288}")
  [ -f "$m" ] || { log "scaling: no model (models.log)"; return 1; }
  log "scaling: $(basename "$m") ready after $((SECONDS - t0)) s ($(du -h "$m" | cut -f1)); $(seconds_left) s left"
  rbench_for "$(seconds_left)" bench --model "$m" --backend "${BACKEND:-cuda}" --fill synthetic --ctx "$ctx" \
    --tokens "${SCALING_TOKENS:-100}" --repeats "${SCALING_REPEATS:-3}" \
    --methods "${SCALING_METHODS:-full,recycled:k=4096,s=50,streamingllm:k=4096,quest:k=4096}" \
    --out "$out/scaling-8b-$type${BENCH_TAG:-}.csv" --steps-out "$out/scaling-8b-$type${BENCH_TAG:-}-steps.csv" 2>&1 \
    | grep -v "^WARNING" | tee -a "$out/scaling-8b-$type${BENCH_TAG:-}.log"
  log "scaling $type $ctx${BENCH_TAG:+ ($BENCH_TAG)}: rc ${PIPESTATUS[0]} after $((SECONDS - t0)) s, $(($(wc -l <"$out/scaling-8b-$type${BENCH_TAG:-}.csv") - 1)) rows"
}

# ruler:CONFIG: the paper's seconds per example end to end on the GPU: `rbench run` of a RULER sweep
# config (methods, tasks, samples; scripts/gpu-ruler/ruler-8b.yaml) on a random Llama-3.1-8B-shaped
# model (RULER_LIKE, RULER_TYPE: q8_0) carrying the llama-bpe vocabulary, with the haystack sources
# and the vocabulary from the bundle's ruler-data.txz (scripts/pack-ruler-data.sh). Each of the
# config's lengths (or RULER_LENGTHS) runs on its own, within its share of the time to
# BENCH_DEADLINE, so every length gets rows; with two or more GPUs (GPUS) one shard per GPU,
# merged after. RULER_SAMPLES, RULER_BACKEND and RULER_METHODS replace the config's samples, backend and methods. Rows go
# to ruler-LIKE-TYPE.csv (a second call resumes it); accuracy is meaningless with random weights,
# the timings are what it is for.
step_ruler() {
  local config=$1 like=${RULER_LIKE:-llama-3.1-8b} type=${RULER_TYPE:-q8_0} data=$work/ruler-data t0=$SECONDS
  [ -f "$config" ] || { log "ruler: no config $config"; return 1; }
  [ -f "$data/ggml-vocab-llama-bpe.gguf" ] && [ -d "$data/datasets" ] \
    || { log "ruler: no vocabulary and haystack sources in $data (ruler-data.txz in the bundle)"; return 1; }
  local m; m=$(model "$like" "$type" "" "$data/ggml-vocab-llama-bpe.gguf")
  [ -f "$m" ] || { log "ruler: no model (models.log)"; return 1; }
  log "ruler: $(basename "$m") ready after $((SECONDS - t0)) s; $(seconds_left) s left"
  local lengths=${RULER_LENGTHS:-$(sed -n 's/^lengths: *\[\([^]]*\)\].*/\1/p' "$config" | tr -d ' ')}
  local csv=$out/ruler-$like-$type.csv gpus n len share i
  # RULER_RESUME: a CSV an earlier call wrote (carried back in): its rows are not run again
  if [ -n "${RULER_RESUME:-}" ] && [ ! -f "$csv" ]; then
    cp "$RULER_RESUME" "$csv" && log "ruler: resuming $(($(wc -l <"$csv") - 1)) lines of $RULER_RESUME"
  fi
  gpus=(${GPUS:-$(nvidia-smi -L 2>/dev/null | awk '{print NR - 1}')})
  [ "${#gpus[@]}" -gt 0 ] || gpus=(none)
  n=$(echo "${lengths//,/ }" | wc -w)
  for len in ${lengths//,/ }; do
    share=$(( $(seconds_left) / n )); n=$((n - 1))
    # RULER_METHODS replaces the config's methods list (which may span lines), e.g. '"recycled:k=4096,s=50", full'
    sed -e "s|^models:.*|models: [$m]|" -e "s|^lengths:.*|lengths: [$len]|" ${RULER_SAMPLES:+-e "s|^samples:.*|samples: $RULER_SAMPLES|"} \
      ${RULER_METHODS:+-e "/^methods:/,/\\]/c methods: [$RULER_METHODS]"} \
      ${RULER_BACKEND:+-e "s|^backend:.*|backend: $RULER_BACKEND|"} "$config" >"$work/ruler-$len.yaml"
    if [ "${#gpus[@]}" -ge 2 ]; then
      for i in "${!gpus[@]}"; do
        (CUDA_VISIBLE_DEVICES=${gpus[$i]} RBENCH_DATA=$data/datasets rbench_for "$share" run "$work/ruler-$len.yaml" \
          --shard "$i/${#gpus[@]}" --out "$out/ruler-$like-$type.shard-$i.csv" >>"$out/ruler-$len-$i.log" 2>&1) &
      done
      wait
    else
      RBENCH_DATA=$data/datasets rbench_for "$share" run "$work/ruler-$len.yaml" --out "$csv" >>"$out/ruler-$len.log" 2>&1
    fi
    log "ruler $len: rc $? after $((SECONDS - t0)) s"
  done
  if [ "${#gpus[@]}" -ge 2 ]; then
    rm -f "$csv"; rbench merge "$out"/ruler-$like-$type.shard-*.csv --out "$csv" >>"$out/ruler.log" 2>&1
  fi
  [ -f "$csv" ] && log "ruler: $(($(wc -l <"$csv") - 1)) rows in $(basename "$csv")"
}

# The kernel-times injection library (native/tools/kernel-times.c): from the bundle (built by
# pack-device-bundle.sh beside its libcupti), else built here against this machine's CUPTI; fails without either
kernel_times_lib() {
  local dir=$work/kernel-times
  [ -f "$dir/libkernel-times.so" ] && { echo "$dir/libkernel-times.so"; return 0; }
  if [ -f "$bundle/kernel-times.txz" ]; then
    tar xJf "$bundle/kernel-times.txz" -C "$work" && { echo "$dir/libkernel-times.so"; return 0; }
  fi
  bash "$root/native/tools/build-kernel-times.sh" "$dir" >>"$out/profile.log" 2>&1 && echo "$dir/libkernel-times.so"
}

# kernel_times_per_step RUN.csv BASE.csv STEPS: each kernel's GPU time per decode step of what RUN decoded
# beyond BASE (the same bench with fewer methods; /dev/null: all of RUN), largest first:
#   kind,kernel,launches_per_step,ms_per_step,share   (names demangled where c++filt is present, arguments cut)
kernel_times_per_step() {
  local filt=cat
  command -v c++filt >/dev/null && filt="c++filt -p"
  awk -F, -v steps="$3" 'FNR == 1 { next }
    # CUPTI records lost (its buffers full): the sums below are short of them
    $1 == "lost" { lost = lost (FILENAME == ARGV[1] ? "base: " : "run: ") $2 "; "; next }
    FILENAME == ARGV[1] { n[$1 "," $2] -= $3; t[$1 "," $2] -= $4; next }
    { n[$1 "," $2] += $3; t[$1 "," $2] += $4 }
    END {
      for (k in t) { net += t[k]; if (t[k] > 0) sum += t[k] }
      for (k in t) if (t[k] > 0) printf "%s,%.2f,%.4f,%.4f\n", k, n[k] / steps, t[k] / steps / 1e6, t[k] / sum
      # the shares are of the kernels that grew; net: the run minus the base, shrinking kernels included
      printf "total,all,,%.4f,1\n", sum / steps / 1e6
      printf "total,net,,%.4f,\n", net / steps / 1e6
      if (lost != "") printf "lost,%s,,,\n", lost
    }' "$2" "$1" | sort -t, -k5 -g -r | awk -F, -v OFS=, 'BEGIN { print "kind,kernel,launches_per_step,ms_per_step,share" } { print }' \
    | { if [ "$filt" = cat ]; then cat; else
        # demangle the name column alone
        # c++filt -p leaves out the arguments; template arguments such as (ggml_type)8 stay
        while IFS=, read -r kind name rest; do printf '%s,%s,%s\n' "$kind" "$(echo "$name" | $filt | tr ',' ';')" "$rest"; done
      fi; }
}

# profile:TYPE:CTX: Nsight Systems' per-kernel GPU time of one decode of full attention and of
# Recycled Attention (where a step's time goes on the device); skipped without nsys
step_profile() {
  local type=$1 ctx=$2 m nsys
  nsys=$(command -v nsys || ls /usr/local/cuda*/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys 2>/dev/null | head -1)
  # PROFILE_CONTEXT: the model's declared context (524288: the scaling step's model, made once for both)
  m=$(model "${BENCH_LIKE:-llama-3.1-8b}" "$type" "${PROFILE_CONTEXT:-}")
  local kt
  if [ -z "$nsys" ] && kt=$(kernel_times_lib); then
    # no Nsight Systems, but CUPTI: each run under the kernel-times injection library (device stamps of every
    # kernel, graph replays included); each later run's sums minus the first's, per decode step
    local base_csv="" steps=$(( ${PROFILE_TOKENS:-50} + 2 )) methods tag
    for methods in ${PROFILE_METHODS:-full full,recycled:k=4096,s=50}; do
      tag=${methods//[:=,]/_}
      # --warmup 0: no JIT warm-up rounds, so that every run decodes tokens + 2 steps per method
      CUDA_INJECTION64_PATH=$kt KERNEL_TIMES_OUT="$out/kernels-$type-$ctx-$tag.csv" rbench bench --model "$m" \
        --backend "${BACKEND:-cuda}" --fill synthetic --ctx "$ctx" --tokens "${PROFILE_TOKENS:-50}" --repeats 1 --warmup 0 \
        --methods "$methods" --out "$work/prof-$type-$tag.csv" >>"$out/profile.log" 2>&1
      log "kernel times $type $methods $ctx: rc $?, $(($(wc -l <"$out/kernels-$type-$ctx-$tag.csv" 2>/dev/null || echo 1) - 1)) kernels"
      if [ -z "$base_csv" ]; then
        base_csv=$out/kernels-$type-$ctx-$tag.csv
        kernel_times_per_step "$base_csv" /dev/null "$steps" >"$out/kernels-$type-$ctx-$tag-per-step.csv"
      else
        kernel_times_per_step "$out/kernels-$type-$ctx-$tag.csv" "$base_csv" "$steps" >"$out/kernels-$type-$ctx-$tag-per-step.csv"
      fi
      head -12 "$out/kernels-$type-$ctx-$tag-per-step.csv" | tee -a "$out/profile.log"
    done
    return 0
  fi
  if [ -z "$nsys" ]; then
    # no Nsight Systems (the device tool's machines): the suite's own op profile, every step graph computed
    # node by node (bench --op-profile; the shares are what it is for)
    log "profile: no nsys on this machine; bench --op-profile instead"
    # bench measures every method against full attention: it is added where the list leaves it out
    local ops=${OP_PROFILE_METHODS:-full,recycled:k=4096,s=50}
    [[ ",$ops," == *",full,"* ]] || ops="full,$ops"
    # CUDA graphs off: each node runs as launched, not captured on its second step and replayed after
    GGML_CUDA_DISABLE_GRAPHS=1 rbench bench --model "$m" --backend "${BACKEND:-cuda}" --fill synthetic --ctx "$ctx" --tokens "${PROFILE_TOKENS:-100}" \
      --repeats 1 --methods "$ops" --out "$work/prof-$type-ops.csv" \
      --op-profile "$out/op-profile-$type.csv" 2>&1 | grep -v "^WARNING" | tee -a "$out/profile.log"
    log "op profile $type $ctx: rc ${PIPESTATUS[0]}"
    return 0
  fi
  # the second run decodes with both: its kernel sums minus the first's are Recycled's
  # (PROFILE_METHODS: other runs, e.g. "full full,h2o:k=4096" for H2O's kernels)
  for methods in ${PROFILE_METHODS:-full full,recycled:k=4096,s=50}; do
    local tag=${methods//[:=,]/_}
    env $java_env RBENCH_LLAMACPP_DIR=$libs "$nsys" profile --trace=cuda --sample=none --cpuctxsw=none --force-overwrite true \
      -o "$work/prof-$type-$tag" "$work/jre/bin/java" --enable-native-access=ALL-UNNAMED -Xmx16g $java_opts \
      -jar "$work/rbench/rbench.jar" bench --model "$m" --backend "${BACKEND:-cuda}" --fill synthetic --ctx "$ctx" --tokens 50 \
      --repeats 1 --methods "$methods" --out "$work/prof-$type-$tag.csv" >>"$out/profile.log" 2>&1
    "$nsys" stats --report cuda_gpu_kern_sum --report cuda_api_sum --report cuda_gpu_mem_time_sum --format csv --output "$out/profile-$type-$tag" "$work/prof-$type-$tag.nsys-rep" \
      >>"$out/profile.log" 2>&1
    log "profile $type $methods $ctx: $(ls "$out"/profile-$type-$tag* 2>/dev/null | tr '\n' ' ')"
  done
}

# Every step but build, libs and pack-out runs on the CUDA libraries. The device tool hands its machine back soon
# after each call, and .native with it: a call whose steps name no build gets one first, from the carried
# cuda-libs pieces (seconds) or from llama-src.tgz (minutes), rather than steps that fail one by one.
needs_libs() {
  [ -f "$libs/libggml-cuda.so" ] && libs_match_patches && return 0
  # missing, or of other patches: the build step builds them (or, without the source, warns and keeps them)
  [ -f "$libs/libggml-cuda.so" ] || log "no CUDA libraries in $libs: the build step first"
  step_build || exit 1
}
# A bench or scaling step whose methods name llama-bench runs the llama-bench step first (at once where it is built).
needs_llama_bench() {
  case ",${METHODS:-},${ENGINE_METHODS:-},${SCALING_METHODS:-}," in *,llama-bench*) ;; *) return 0 ;; esac
  [ -n "${RBENCH_LLAMA_BENCH:-}" ] || [ "${BACKEND:-cuda}" != cuda ] || step_llama_bench || exit 1
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >>"$out/steps.log" 2>&1
for s in "$@"; do
  # CALL_DEADLINE: a step that would start after it is skipped (pack-out never is), so that a device call's last
  # invocation, its pack-out, runs inside the call's limit
  if [ -n "${CALL_DEADLINE:-}" ] && [ "$s" != pack-out ] && [ "$(date +%s)" -ge "$CALL_DEADLINE" ]; then
    log "past CALL_DEADLINE: step $s skipped"; continue
  fi
  case $s in build|libs|pack-out|topk-bench) ;; *) needs_libs ;; esac
  case $s in bench:*|scaling*) needs_llama_bench ;; esac
  case $s in
    build) step_build || exit 1 ;;
    diag) step_diag ;;
    libs) step_libs ;;
    pack-out) step_pack_out ;;
    llama-bench) step_llama_bench || exit 1 ;;
    aot) step_aot ;;
    ops-test) step_ops_test ;;
    topk-bench) step_topk_bench ;;
    parity) step_parity ;;
    cross) step_cross ;;
    queued) step_queued ;;
    parity-diag) step_parity_diag ;;
    h2o) step_h2o ;;
    dynamic) step_dynamic ;;
    smoke) step_smoke ;;
    bench:*) IFS=: read -r _ type ctx <<<"$s"; step_bench "$type" "$ctx" ;;
    profile:*) IFS=: read -r _ type ctx <<<"$s"; step_profile "$type" "$ctx" ;;
    scaling) step_scaling ;;
    scaling:*) step_scaling "${s#scaling:}" ;;
    ruler:*) step_ruler "${s#ruler:}" ;;
    select:*) rbench bench-select --backend "${BACKEND:-cuda}" --ctx "${s#select:}" --out "$out/select${BENCH_TAG:-}.csv" 2>&1 \
                | grep -v "^WARNING" | tee -a "$out/select${BENCH_TAG:-}.log"; log "bench-select ${s#select:}${BENCH_TAG:-}: rc ${PIPESTATUS[0]}" ;;
    reads:*) rbench bench-select --reads --backend "${BACKEND:-cuda}" --ctx "${s#reads:}" --out "$out/reads${BENCH_TAG:-}.csv" 2>&1 \
                | grep -v "^WARNING" | tee -a "$out/reads${BENCH_TAG:-}.log"; log "bench-select --reads ${s#reads:}${BENCH_TAG:-}: rc ${PIPESTATUS[0]}" ;;
    *) log "unknown step $s"; exit 2 ;;
  esac
done
