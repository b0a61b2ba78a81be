#!/usr/bin/env bash
# One GPU session (the device tool's `run`): hymt's hf engine on CUDA with the tiny
# model through the CLI, a retry's sampling and the batch size `auto` picks, then
# benchmarks/engine.py at the real HY-MT 1.8B shape (random weights, bf16).
# The device image has torch and transformers but no mdit-py-plugins or
# ruamel.yaml and no network: first, here,
#   pip download --no-deps -d .devwheels markdown-it-py mdit-py-plugins ruamel.yaml
#   echo /.devwheels/ >> .git/info/exclude
# then run `bash benchmarks/device_check.sh` with carry [".devwheels"].
set -uo pipefail
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error
python3 -m pip install -q --no-index --find-links .devwheels markdown-it-py mdit-py-plugins ruamel.yaml 2>&1 | tail -2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.is_available())"
python3 -c "
from pathlib import Path; from tests.tiny_model import build_tiny_model
build_tiny_model(Path('/tmp/tiny'))"
cp examples/guide.md /tmp/guide.md
python3 -m hymt_cli translate /tmp/guide.md --to de --engine hf --model /tmp/tiny --device cuda --no-memory --json > $OUT/tiny_cuda.json; echo "cli exit $?"
python3 -c "import json, os; print(json.load(open(os.environ['OUT'] + '/tiny_cuda.json')))"
python3 - <<'PY'
from hymt_cli.engines.hf import HFEngine
from hymt_cli.engines.options import HFOptions
from hymt_cli.engines.base import Request
from hymt_cli.languages import resolve
e = HFEngine(HFOptions('/tmp/tiny', device='cuda'))
print('auto batch size on cuda:', e.batch_size)
r = [Request('Press <s1>Save</s1> to keep it.', resolve('de'), attempt=a) for a in (0, 1, 1)]
out = e.translate_batch(r)
print('attempt0 != attempt1:', out[0] != out[1], ' attempt1 reproducible:', out[1] == out[2])
PY
timeout 400 python3 benchmarks/engine.py --device cuda --shapes 1.8b --no-int4 --requests 24 --batch-size 16 --new-tokens 128
cp benchmarks/results/engine-cuda.md $OUT/ 2>/dev/null
