"""Index maintenance costs: a full build, adding one document, a re-run with nothing changed, a rename, one
paragraph of the longest document edited.

    python benchmarks/incremental.py --docs ../shared/eval/squad-v1.1-dev/docs [--add seeds/000_f79ba8ae3d3a940e.txt]
        [--copies N]

Works on a copy of the folder (or N copies of it, for a larger index) in a temporary directory; prints one line
per step.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from gpu_build import copy_docs

from index.build import BuildSummary, build
from index.embedding import Embedder

#: The document added by default: the seed article.
SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_f79ba8ae3d3a940e.txt"
#: Written at the end of the middle paragraph of the longest document, as an edit.
EDIT = " This sentence was added to measure an edit."


def edit_longest(folder: Path) -> None:
    """Add EDIT to the middle paragraph of the longest text file in `folder`."""
    longest = max(folder.rglob("*.txt"), key=lambda path: path.stat().st_size)
    paragraphs = longest.read_text(encoding="utf-8").split("\n\n")
    paragraphs[len(paragraphs) // 2] = paragraphs[len(paragraphs) // 2].rstrip() + EDIT
    longest.write_text("\n\n".join(paragraphs), encoding="utf-8")


def maintenance(docs: Path, work: Path, embedder: Embedder, add: Path = SEED,
                copies: int = 1) -> dict[str, BuildSummary]:
    """Copy `docs` to `work/docs` (`copies` times over, each copy new to the index) and index it into `work/index`:
    in full, with `add` added, again with nothing changed, with `add` renamed, and with one paragraph of the longest
    document edited. Returns each step's build summary."""
    folder, index = work / "docs", work / "index"
    if copies == 1:
        shutil.copytree(docs, folder)
    else:
        copy_docs(docs, folder, copies)
    steps = {"full": build(folder, index, embedder=embedder)}
    shutil.copy(add, folder / "added.txt")
    steps["added"] = build(folder, index, embedder=embedder)
    steps["unchanged"] = build(folder, index, embedder=embedder)
    (folder / "added.txt").rename(folder / "renamed.txt")
    steps["renamed"] = build(folder, index, embedder=embedder)
    edit_longest(folder)
    steps["edited"] = build(folder, index, embedder=embedder)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--add", default=str(SEED))
    parser.add_argument("--copies", type=int, default=1, help="copies of the folder to index (1: the folder as it is)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        steps = maintenance(Path(args.docs), Path(work), Embedder(), Path(args.add), args.copies)
    full, added, again, renamed = steps["full"], steps["added"], steps["unchanged"], steps["renamed"]
    print(f"full build: {full.documents} documents, {full.chunks} chunks, {full.seconds:.2f} s")
    print(f"one document added: {added.embedded_chunks} chunks embedded, {added.seconds:.2f} s "
          f"({100 * added.seconds / full.seconds:.1f}% of the full build)")
    print(f"nothing changed: {again.embedded_chunks} chunks embedded, {again.seconds:.2f} s")
    print(f"one document renamed: {renamed.embedded_chunks} chunks embedded, {renamed.seconds:.2f} s")
    edited = steps["edited"]
    print(f"one paragraph of the longest document edited ({edited.updated[0]}): {edited.embedded_chunks} chunks "
          f"embedded, {edited.seconds:.2f} s")


if __name__ == "__main__":
    main()
