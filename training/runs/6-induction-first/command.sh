# Run 6 ("induction first"), 2026-11-28, NVIDIA H200 (GPU 0 of the nvidia-h100-x2 machine the
# device tool served as 2x H200), while GPU 1 ran the CUDA latency benchmarks. Here first:
#   scripts/pack-device-bundle.sh; tar czf .cache/device/llama-libs.tgz -C .native/llama.cpp-3.21.1/lib/linux-x64 .
#   training/pack.sh --slim
# Device tool `run`, kind nvidia-h100-x2, timeout 600, carry .cache/device/{jre.txz,rbench.tgz,
# llama-src.tgz,llama-libs.tgz} and .cache/device/train:
export OUT; set -a; . training/recipe-induction-first.env; set +a; export METHODS="full,recycled:k=4096,s=50"
LIMIT_S=578 bash scripts/gpu-train-and-bench.sh
