#!/usr/bin/env bash
# The trainer's own tests (CPU, seconds): training/test_*.py with the system Python.
# Installs what they need from Debian the first time: python3-torch, python3-numpy and
# libopenblas0-pthread (without it torch's CPU matmuls fall back to the reference BLAS).
set -euo pipefail
cd "$(dirname "$0")"
py=/usr/bin/python3
if ! $py -c "import torch, numpy" 2>/dev/null; then
  echo "training/test.sh: installing python3-torch, python3-numpy, libopenblas0-pthread (apt)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q python3-torch python3-numpy libopenblas0-pthread >/dev/null
  else sudo apt-get install -y -q python3-torch python3-numpy libopenblas0-pthread >/dev/null; fi
fi
exec $py -m unittest discover -s . -p 'test_*.py' "$@"
