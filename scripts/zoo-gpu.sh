#!/usr/bin/env bash
# The zoo on one GPU (the device tool's machine), after scripts/pack-device-bundle.sh and with
# the CUDA libraries in the bundle (cuda-device.sh's `libs` step) or built by `build`:
#   1. a needle-in-a-haystack prompt (RULER's niah_single_1 form, about 3.8K tokens) answered by the
#      embedded model with every method at K=512: compare the answers on CUDA with the same loop run
#      on the CPU (BACKEND=cpu JAVA=... JAR=...; ZOO_NIAH=0 skips it);
#   2. every method's decode latency at Llama-3.1-8B shapes, K=4096, against full attention and its
#      bytes-moved bound (rbench bench, cache filled with random rows): ZOO_TYPES x ZOO_CTX (default
#      131000,32768: the longer first, so that a deadline cuts the shorter), within ZOO_DEADLINE (epoch seconds).
# Usage: bash scripts/zoo-gpu.sh   (logs, answers and CSVs under $OUT)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-/tmp/rbcuda/out}
mkdir -p "$out"
methods="full,recycled:k=4096,s=50,recycled-dynamic:k=4096,streamingllm:k=4096,h2o:k=4096,snapkv:k=4096,pyramidkv:k=4096,quest:k=4096,tidaldecode:k=4096,oracle:k=4096"
if [ "${ZOO_NIAH:-1}" != 0 ]; then
  # the needle prompt: filler lines, the needle in the middle, the question
  prompt=$out/niah-prompt.txt
  {
    echo "A special magic number is hidden within the following text. Make sure to memorize it. I will quiz you about the number afterwards."
    for i in $(seq 1 75); do echo "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."; done
    echo "One of the special magic numbers for cheerful-lamp is: 7319274."
    for i in $(seq 1 75); do echo "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."; done
    printf "What is the special magic number for cheerful-lamp mentioned in the provided text? The special magic number for cheerful-lamp mentioned in the provided text is"
  } >"$prompt"
  # on the GPU machine: the libraries cuda-device.sh built (LIBS, JAVA and JAR can point elsewhere: the CPU run here)
  [ "${BACKEND:-cuda}" = cuda ] && LIBS=${LIBS:-$root/.native/llama.cpp-$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' pom.xml)/lib/linux-x64-cuda}
  for m in full "recycled:k=512,s=50" "recycled-dynamic:k=512" "streamingllm:k=512" "h2o:k=512" "snapkv:k=512" \
           "pyramidkv:k=512" "quest:k=512" "tidaldecode:k=512" "oracle:k=512"; do
    printf '%s\t' "$m" >>"$out/niah-${BACKEND:-cuda}.tsv"
    env ${LIBS:+RBENCH_LLAMACPP_DIR=$LIBS} ${JAVA:-/tmp/rbcuda/jre/bin/java} --enable-native-access=ALL-UNNAMED \
      -jar ${JAR:-/tmp/rbcuda/rbench/rbench.jar} generate --model default \
      --prompt-file "$prompt" --method "$m" --max-tokens 12 --backend "${BACKEND:-cuda}" 2>>"$out/niah.log" | tr '\n' ' ' >>"$out/niah-${BACKEND:-cuda}.tsv"
    echo >>"$out/niah-${BACKEND:-cuda}.tsv"
  done
fi
deadline=${ZOO_DEADLINE:-$(( $(date +%s) + 100000 ))}
# cuda-device.sh's bench step with every method: the engine half (full vs llama_decode) is not needed here
types=(${ZOO_TYPES:-q8_0 f16})
for i in "${!types[@]}"; do
  type=${types[$i]}
  left=$(( deadline - $(date +%s) ))
  [ "$left" -gt 60 ] || { echo "zoo-gpu: out of time before $type" | tee -a "$out/zoo.log"; break; }
  # each weight type gets its share of the time left
  BENCH_PARTS=methods METHODS="$methods" BENCH_DEADLINE=$(( $(date +%s) + left / (${#types[@]} - i) )) BENCH_TAG=-zoo \
    bash scripts/cuda-device.sh "bench:$type:${ZOO_CTX:-131000,32768}" >>"$out/zoo.log" 2>&1
done
