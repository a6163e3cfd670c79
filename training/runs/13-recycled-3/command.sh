# device tool, nvidia-h200, one call; see training/recipe-recycled-3.env for the two sides. Models: A/model.gguf.sha256, B/model.gguf.sha256 (the GGUFs are not committed)
export OUT; set -a; . training/recipe-recycled-3.env; set +a
MODE=finetune SHARE_DATA=1 WORKERS=13 LIMIT_S=510 EVAL_S=100 A_GPU=0 B_GPU=0 A_EXTRA="--recycled-share 0.5 --recycled-lookahead 0.1" B_EXTRA="--recycled-share 0.5 --recycled-lookahead 0.3" bash .cache/device/train/training/two-runs.sh
