set -u
mkdir -p /tmp/d/lm /tmp/d/ready /tmp/d/eval
python3 -c "import numpy as np,json; np.random.default_rng(0).integers(100,32000,size=2000000).astype(np.uint16).tofile('/tmp/d/lm/sotu.u16'); json.dump({},open('/tmp/d/lm/sotu.json','w'))"
PYTHONUNBUFFERED=1 timeout 120 python3 training/train.py --data /tmp/d --vocab .cache/device/train/ggml-vocab-llama-spm.gguf --out /tmp/tout \
  --train-seconds 90 --eval-seconds 3 --copy-format pairs --copy-seg 8,64 --copy-vocab 2000 --probe-every 50 --log-every 25 --warmup 100 \
  --stages '[[0.0, {"1024": 1.0}, {"copy": 1.0}]]' 2>&1 | grep -v "^WARN" | grep "step\|probe\|model\|trained\|Error\|error" | tail -45
cp /tmp/tout/results.json $OUT/ 2>/dev/null; echo "total $SECONDS s"
