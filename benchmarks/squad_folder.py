"""A SQuAD JSON file as an eval folder like ../shared/eval's: docs/ (one text file per article, its paragraphs
apart by blank lines) and questions.jsonl, for `qa eval` on another domain.

    python benchmarks/squad_folder.py ../shared/train/squadshifts/amazon_reviews_v1.0.json /tmp/amazon \
        [--articles 40]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", help="SQuAD-format JSON file")
    parser.add_argument("out", help="folder to write docs/ and questions.jsonl into")
    parser.add_argument("--articles", type=int, help="only the first N articles")
    args = parser.parse_args()
    articles = json.loads(Path(args.squad).read_text(encoding="utf-8"))["data"][: args.articles]
    docs = Path(args.out) / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    with open(Path(args.out) / "questions.jsonl", "w", encoding="utf-8") as questions:
        for article in articles:
            name = re.sub(r"[^\w.-]", "_", article["title"]) + ".txt"
            paragraphs = [paragraph["context"].strip() for paragraph in article["paragraphs"]]
            (docs / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
            for number, paragraph in enumerate(article["paragraphs"]):
                for qa in paragraph["qas"]:
                    answers = [answer["text"] for answer in qa["answers"]]
                    line = {"id": qa["id"], "question": qa["question"], "answers": answers, "doc": name,
                            "paragraph": number}
                    questions.write(json.dumps(line) + "\n")
    print(f"{len(articles)} articles to {docs}")


if __name__ == "__main__":
    main()
