# Runs 13 and 14 again, in two device calls (nvidia-h200, timeout 600 each), because run 14 A's GGUF
# was never committed and was lost with its checkout. The shipped recycled-tuned model is step2/A.
# Training stops on a deadline, so a rerun takes a few steps more or less and its weights differ.
#
# step 1 = training/runs/13-recycled-3/command.sh, from the shipped run 12 model:
#   training/pack.sh --slim --init models/rbench-longctx-run12-recycled-q8_0.gguf
#   (carry .cache/device/jre.txz, .cache/device/rbench.tgz, .cache/device/train)
export OUT; set -a; . training/recipe-recycled-3.env; set +a
MODE=finetune SHARE_DATA=1 WORKERS=13 LIMIT_S=510 EVAL_S=100 A_GPU=0 B_GPU=0 A_EXTRA="--recycled-share 0.5 --recycled-lookahead 0.1" B_EXTRA="--recycled-share 0.5 --recycled-lookahead 0.3" bash .cache/device/train/training/two-runs.sh
#
# step 2 = training/runs/14-recycled-4/command.sh, from step 1's side B (sha256 a4c05d19...):
#   training/pack.sh --slim --init step1-B.gguf
export OUT; set -a; . training/recipe-recycled-4.env; set +a
MODE=finetune SHARE_DATA=1 WORKERS=13 LIMIT_S=500 EVAL_S=100 A_GPU=0 B_GPU=0 A_EXTRA="--recycled-share 0.3" B_EXTRA="--recycled-share 0.5" bash .cache/device/train/training/two-runs.sh
