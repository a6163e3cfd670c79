# Run 7a, the copy-plateau study on the GPU (device tool, nvidia-h200-x4, GPUs 0 and 1; GPUs 2
# and 3 ran the CUDA latency table in the same call). Here first: scripts/pack-device-bundle.sh
# and training/pack.sh --slim; carry .cache/device/{jre.txz,rbench.tgz,llama-src.tgz,
# llama-libs.tgz} and .cache/device/train. Then (the script was training/plateau-pair.sh then,
# now training/two-runs.sh with MODE=copy, the default):
export OUT
A_EXTRA="--d-model 128 --layers 2 --heads 4 --kv-heads 2 --ffn 256 --precision fp32" \
B_EXTRA="--precision fp32" LIMIT_S=555 bash .cache/device/train/training/two-runs.sh
