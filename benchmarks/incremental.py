"""Index maintenance costs: a full build, adding one document, a re-run with nothing changed, a rename.

    python benchmarks/incremental.py --docs ../shared/eval/squad-v1.1-dev/docs [--add seeds/000_f79ba8ae3d3a940e.txt]

Works on a copy of the folder in a temporary directory; prints one line per step.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from index.build import build
from index.embedding import Embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--add", default=str(Path(__file__).resolve().parent.parent / "seeds" / "000_f79ba8ae3d3a940e.txt"))
    args = parser.parse_args()
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as work:
        docs, index = Path(work) / "docs", Path(work) / "index"
        shutil.copytree(args.docs, docs)
        full = build(docs, index, embedder=embedder)
        print(f"full build: {full.documents} documents, {full.chunks} chunks, {full.seconds:.2f} s")
        shutil.copy(args.add, docs / "added.txt")
        added = build(docs, index, embedder=embedder)
        print(f"one document added: {added.embedded_chunks} chunks embedded, {added.seconds:.2f} s "
              f"({100 * added.seconds / full.seconds:.1f}% of the full build)")
        again = build(docs, index, embedder=embedder)
        print(f"nothing changed: {again.embedded_chunks} chunks embedded, {again.seconds:.2f} s")
        (docs / "added.txt").rename(docs / "renamed.txt")
        renamed = build(docs, index, embedder=embedder)
        print(f"one document renamed: {renamed.embedded_chunks} chunks embedded, {renamed.seconds:.2f} s")


if __name__ == "__main__":
    main()
