# Run 12, 2026-12-03: run 11 side A trained on with the UUID and multi-needle tasks as the focus
# (training/recipe-recycled-2.env), two sides on one H200 sharing one data set (device tool,
# nvidia-h200, timeout 580, 523 s): A --recycled-share 0.5, B --recycled-share 0.7; both lr 2e-4.
# Side A shipped as models/rbench-longctx-recycled-q8_0.gguf (sha256 dc77bd3c73808920..., A/model.gguf.sha256).
# Here first: training/pack.sh --slim --init .cache/models/recycled-A.gguf  (run 11 side A)
export OUT; set -a; . training/recipe-recycled-2.env; set +a
MODE=finetune SHARE_DATA=1 WORKERS=13 LIMIT_S=520 EVAL_S=100 A_GPU=0 B_GPU=0 \
  A_EXTRA="--recycled-share 0.5" B_EXTRA="--recycled-share 0.7" bash .cache/device/train/training/two-runs.sh
