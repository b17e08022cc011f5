"""Writes the follow-up dialog sets in tests/data from SQuAD v1.1 dev questions and the seed article.

    python benchmarks/make_dialogs.py --squad ../shared/eval/squad-v1.1-dev/questions.jsonl

SQuAD dialogs: per article, turn 1 is a SQuAD question (CC BY-SA 4.0, Rajpurkar et al. 2016) that
names the article's subject; then one or two hand-written follow-ups that don't name it ("Who founded
it?"), so they can't be answered alone; the last turn is a SQuAD question about another article (a
topic switch). Seed dialogs are written by hand. Records: {"dialog_id", "turn", "kind", "question",
"answers", "doc"}, kind one of "opening", "follow-up", "standalone".
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

SUBJECTS = {
    "Civil_disobedience.txt": r"civil disobedience",
    "Ctenophora.txt": r"ctenophores?",
    "European_Union_law.txt": r"(?:the )?(?:European Union|EU) law",
    "Fresno,_California.txt": r"Fresno",
    "Harvard_University.txt": r"Harvard(?: University)?",
    "Imperialism.txt": r"imperialism",
    "Jacksonville,_Florida.txt": r"Jacksonville",
    "Newcastle_upon_Tyne.txt": r"Newcastle",
    "Oxygen.txt": r"oxygen",
    "Prime_number.txt": r"prime numbers?",
    "Scottish_Parliament.txt": r"(?:the )?Scottish Parliament",
    "Steam_engine.txt": r"(?:the )?steam engines?",
    "United_Methodist_Church.txt": r"(?:the )?(?:United Methodist Church|UMC)",
    "Victoria_and_Albert_Museum.txt": r"(?:the )?(?:V&A|Victoria and Albert Museum)",
}
#: Follow-ups that don't name their subject, so they can't be answered alone; gold strings checked in the articles.
FOLLOW_UPS = {
    "Civil_disobedience.txt": [("Who wrote an essay about it?", ["Henry David Thoreau", "Thoreau"]),
                               ("Which Indian leader practised it?", ["Gandhi"])],
    "Ctenophora.txt": [("What are they commonly called?", ["comb jellies"]), ("What do they use to swim?", ["cilia"])],
    "European_Union_law.txt": [("Which court can interpret it?", ["Court of Justice"]),
                               ("Who applies it?", ["courts of member states"])],
    "Fresno,_California.txt": [("Which county is it in?", ["Fresno County"]), ("When was it incorporated?", ["1885"])],
    "Harvard_University.txt": [("Who is it named after?", ["John Harvard"]), ("When was it established?", ["1636"])],
    "Imperialism.txt": [("Which Russian leader wrote about it?", ["Lenin"]),
                        ("Which British historians studied it in the 20th century?", ["John Gallagher", "Ronald Robinson"])],
    "Jacksonville,_Florida.txt": [("Which river is it on?", ["St. Johns River"]), ("Which county is it in?", ["Duval County"])],
    "Newcastle_upon_Tyne.txt": [("Who founded it?", ["Hadrian"]), ("Which river is it on?", ["River Tyne", "Tyne"])],
    "Oxygen.txt": [("Who discovered it?", ["Scheele", "Priestley"]), ("What is its atomic number?", ["atomic number 8"])],
    "Prime_number.txt": [("Which Greek mathematician proved theorems about them?", ["Euclid"]),
                         ("Which theorem says every integer factors into them uniquely?", ["fundamental theorem of arithmetic"])],
    "Scottish_Parliament.txt": [("Where does it meet?", ["Holyrood"]), ("When was it first convened?", ["1999"])],
    "Steam_engine.txt": [("Who developed the first one used commercially?", ["Thomas Savery", "Newcomen"]),
                         ("Who improved it with a separate condenser?", ["James Watt", "Watt"])],
    "United_Methodist_Church.txt": [("Whose revival movement does it trace its roots to?", ["Wesley"]),
                                    ("When was it formed?", ["1968"])],
    "Victoria_and_Albert_Museum.txt": [("When was it founded?", ["1852"]), ("Who was its first architect?", ["Francis Fowke"])],
}
SEED = "000_f79ba8ae3d3a940e.txt"
SEED_DIALOGS = [
    [("Who is Armenia's Prime Minister?", ["Nikol Pashinyan"]),
     ("When did he announce that the country froze its CSTO participation?", ["Feb. 23"])],
    [("Which organization did Armenia threaten to withdraw from?", ["Collective Security Treaty Organization"]),
     ("Which countries does it include?", ["Belarus, Armenia, Kazakhstan, Kyrgyzstan, Russia, and Tajikistan"])],
    [("Who is Armenia's foreign minister?", ["Ararat Mirzoyan"]),
     ("When did he speak about the European Union?", ["March 8"])],
    [("Which state media reported Pashinyan's threat?", ["RIA Novosti"]),
     ("On what date?", ["March 12"])],
    [("When did Azerbaijan seize Armenian land?", ["Sept. 2023"]),
     ("Who did Yerevan look to after that?", ["Western partners"])],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", required=True, help="SQuAD v1.1 dev questions.jsonl")
    parser.add_argument("--out", default="tests/data", help="folder for dialogs_squad.jsonl and dialogs_seed.jsonl")
    args = parser.parse_args()
    rng = random.Random(13)
    records = [json.loads(line) for line in open(args.squad, encoding="utf-8")]
    naming = {doc: [r for r in records if r["doc"] == doc and re.search(rf"\b{s}\b", r["question"], re.I)]
              for doc, s in SUBJECTS.items()}
    for pool in naming.values():
        rng.shuffle(pool)
    docs = sorted(SUBJECTS)
    squad = []
    for number in range(3 * len(docs)):
        doc = docs[number % len(docs)]
        opening = naming[doc].pop()
        first, second = FOLLOW_UPS[doc]
        follow_ups = [[first, second], [second, first], [first]][number // len(docs)]
        other = docs[(number % len(docs) + 1 + number // len(docs)) % len(docs)]
        standalone = naming[other].pop()
        turns = [(opening["question"], opening["answers"], "opening", doc)]
        turns += [(question, answers, "follow-up", doc) for question, answers in follow_ups]
        turns.append((standalone["question"], standalone["answers"], "standalone", other))
        for turn, (question, answers, kind, source) in enumerate(turns, 1):
            squad.append({"dialog_id": f"squad-{number:02d}", "turn": turn, "kind": kind, "question": question,
                          "answers": answers, "doc": source})
    seed = [
        {"dialog_id": f"seed-{number:02d}", "turn": turn, "kind": "opening" if turn == 1 else "follow-up",
         "question": question, "answers": answers, "doc": SEED}
        for number, dialog in enumerate(SEED_DIALOGS)
        for turn, (question, answers) in enumerate(dialog, 1)
    ]
    out = Path(args.out)
    for name, rows in (("dialogs_squad.jsonl", squad), ("dialogs_seed.jsonl", seed)):
        (out / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{out / name}: {len({r['dialog_id'] for r in rows})} dialogs, {len(rows)} turns")


if __name__ == "__main__":
    main()
