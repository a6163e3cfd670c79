# Run 9, 2026-11-28: run 8's side A trained on with niah_multikey_3 as the focus task (device
# tool, nvidia-h200 (one GPU: no two-GPU machine was lent), timeout 600).
# Here first: scripts/pack-device-bundle.sh; training/pack.sh --slim --init .cache/models/run8-A.gguf
# carry .cache/device/{jre.txz,rbench.tgz} and .cache/device/train (llama-libs-min.tgz inside).
export OUT; set -a; . training/recipe-run9.env; set +a
WORKERS=13 DEADLINE_S=530 TRAIN_EXTRA="$TRAIN_EXTRA --lr 5e-4 --answer-weight 2" \
  bash .cache/device/train/training/device_run.sh finetune 2>&1 | grep -v "^WARNING" | grep -v "ruler pool:" \
  | grep -v "^[0-9:]* step [0-9]*[1-9]00 \|^[0-9:]* step [0-9]*[2-9]5 \|^[0-9:]* step [0-9]*[0-9]50 \|^[0-9:]* step [0-9]*25 " 
