"""Short follow-ups against the same questions asked in full: does the chat answer "When?" as it answers the question
written out?

    python benchmarks/follow_ups.py --squad-docs ../shared/eval/squad-v1.1-dev/docs --squad-index IDX

benchmarks/follow_ups.jsonl holds 14 conversations written by hand in an audit of the chat, 4 over the seed article
and 10 over SQuAD v1.1 dev articles (1973 oil crisis, Apollo program, Fresno, Harvard): {"dialog_id", "turn",
"question", "full", "corpus"}, where "full" is the follow-up written out in full (null for a turn that stands
alone). Each conversation is asked in order with its own answers as history; each follow-up's full form is asked
alone. The full form's answer is the reference (no gold answers were written): `answered` is the share of
follow-ups answered, `agreement_f1` the mean token F1 of a follow-up's answer against its full form's, over the
follow-ups whose full form is answered (0 for a follow-up not answered), and `answered_where_full_abstains` counts
follow-ups answered where the full question is not. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from index.terms import terms
from qa import Chat, engine
from qa.evaluate import token_f1

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = ROOT / "benchmarks" / "follow_ups.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad-docs", required=True, help="the SQuAD v1.1 dev documents folder")
    parser.add_argument("--squad-index", help="its index (default: the one `qa` uses for that folder)")
    args = parser.parse_args()
    engines = {"seed": engine(ROOT / "seeds"), "squad": engine(args.squad_docs, args.squad_index)}
    conversations: dict[str, list[dict]] = {}
    for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        conversations.setdefault(record["dialog_id"], []).append(record)
    answered, agreement, extra = [], [], 0
    by_words: dict[str, list[float]] = {}
    for turns in conversations.values():
        qa = engines[turns[0]["corpus"]]
        chat = Chat(qa)
        for turn in sorted(turns, key=lambda record: record["turn"]):
            answer = chat.ask(turn["question"])
            if not turn["full"]:
                continue
            full = qa.answer(turn["full"])
            answered.append(answer.found)
            if full.found:
                agreed = token_f1(answer.text, [full.text]) if answer.found else 0.0
                agreement.append(agreed)
                words = len(set(terms(turn["question"])))
                by_words.setdefault("2 or more" if words >= 2 else str(words), []).append(agreed)
            else:
                extra += answer.found
    print(json.dumps({
        "follow_ups": len(answered),
        "answered": round(sum(answered) / len(answered), 3),
        "agreement_f1": round(sum(agreement) / len(agreement), 3),
        "agreement_f1_by_content_words": {k: [len(v), round(sum(v) / len(v), 3)] for k, v in sorted(by_words.items())},
        "answered_where_full_abstains": extra,
    }, indent=2))


if __name__ == "__main__":
    main()
