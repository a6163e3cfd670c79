# Run 7, 2026-11-28: two model shapes through run 6's curriculum side by side (device tool,
# nvidia-h200-x4, timeout 600: GPU 0 side A, GPU 1 side B; GPUs 2 and 3 ran the CUDA latency
# table and GPU 1 also the full CUDA parity set in the same call). Here first:
#   scripts/pack-device-bundle.sh; training/pack.sh --slim
# carry .cache/device/{jre.txz,rbench.tgz,llama-src.tgz,llama-libs.tgz} and .cache/device/train.
export OUT; set -a; . training/recipe-induction-first.env; set +a
MODE=full EXPORT=Q8_0 MODEL_NAME=rbench-longctx-run7 WORKERS=8 LIMIT_S=555 \
  A_EXTRA="--d-model 256 --layers 4 --heads 4 --kv-heads 2 --ffn 768" \
  B_EXTRA="--d-model 128 --layers 4 --heads 4 --kv-heads 2 --ffn 512" \
  bash .cache/device/train/training/two-runs.sh
# Side A's A.tgz held model.gguf.00 (the whole Q8_0 GGUF, 12.8 MB, sha256 in A/model.gguf.sha256
# of the call): committed as models/rbench-longctx-run7-q8_0.gguf. One side alone, on one GPU:
#   set -a; . training/recipe-run7.env; set +a; bash .cache/device/train/training/device_run.sh full
