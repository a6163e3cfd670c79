# Run 11, 2026-12-03: Recycled-aware fine-tuning of run 10's model (models/rbench-longctx-run10-q8_0.gguf),
# two sides on one H200 sharing one data set (device tool, nvidia-h200, timeout 600, 536 s):
# A at lr 2e-4, B at lr 5e-4; both --recycled k=256,s=16 --recycled-share 0.5 (training/recipe-recycled.env).
# Here first: training/pack.sh --slim --init models/rbench-longctx-run10-q8_0.gguf
# carry .cache/device/{jre.txz,rbench.tgz} and .cache/device/train (models/ and docs/results/*.csv untracked for the call)
export OUT; set -a; . training/recipe-recycled.env; set +a
MODE=finetune SHARE_DATA=1 WORKERS=13 LIMIT_S=540 EVAL_S=110 A_GPU=0 B_GPU=0 \
  A_EXTRA="--lr 2e-4" B_EXTRA="--lr 5e-4" bash .cache/device/train/training/two-runs.sh
# Side A's model: sha256 7ddef1b549359cb653c4dc56b7d9aa343fc29fac176e6b991c064df8796a98b4 (A/model.gguf.sha256), the init of run 12.
