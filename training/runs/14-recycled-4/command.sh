# device tool, nvidia-h200, one call; see training/recipe-recycled-4.env for the two sides. Models: A/model.gguf.sha256, B/model.gguf.sha256 (the GGUFs are not committed)
export OUT; set -a; . training/recipe-recycled-4.env; set +a
MODE=finetune SHARE_DATA=1 WORKERS=13 LIMIT_S=500 EVAL_S=100 A_GPU=0 B_GPU=0 A_EXTRA="--recycled-share 0.3" B_EXTRA="--recycled-share 0.5" bash .cache/device/train/training/two-runs.sh
