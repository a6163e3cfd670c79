# Run 10, 2026-11-28 (session 6): run 9's model trained on with niah_multikey_2, niah_multiquery
# and niah_multikey_3 as the focus, 8K-heavy (training/recipe-run10.env), two continuations side
# by side on one data set (device tool, nvidia-h200-x2, timeout 600): A at lr 4e-4, B at lr 2e-4,
# both with answer loss weight 2. B shipped as models/rbench-longctx-run10-q8_0.gguf.
# The init model travelled in the working tree (models/), not in the bundle, so the carry held
# the CUDA build's source too (a CUDA parity diagnosis ran on GPU 1 in the same call).
# Here first: scripts/pack-device-bundle.sh; training/pack.sh --slim
# carry .cache/device/{jre.txz,rbench.tgz,llama-src.tgz} and .cache/device/train
export OUT; set -a; . training/recipe-run10.env; set +a
TRAIN_EXTRA="${TRAIN_EXTRA/.cache\/device\/train\/init.gguf/models\/rbench-longctx-run9-q8_0.gguf}"
MODE=finetune SHARE_DATA=1 WORKERS=13 LIMIT_S=535 A_EXTRA="--lr 4e-4 --answer-weight 2" B_EXTRA="--lr 2e-4 --answer-weight 2" \
  bash .cache/device/train/training/two-runs.sh
