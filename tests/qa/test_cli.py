"""The `qa` command: JSON schema, exit codes and one-line messages for bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from qa.cli import main, parse
from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_ask_json_schema(seed_index, capsys):
    docs, index = seed_index
    assert main(["ask", "Who is Armenia's Prime Minister?", "--docs", str(docs), "--index", str(index), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record) == {"question", "query", "answer", "found", "score", "citations"}
    assert record["found"] is True and isinstance(record["score"], float)
    citation = record["citations"][0]
    assert set(citation) == {"doc", "title", "start", "end", "quote", "score", "pages", "answer_start", "answer_end"}
    text = (docs / citation["doc"]).read_text(encoding="utf-8")
    assert text[citation["start"] : citation["end"]] == citation["quote"]
    assert text[citation["answer_start"] : citation["answer_end"]] == record["answer"] == "Nikol Pashinyan"


def test_index_command_reports_what_it_did(seed_index, tmp_path, capsys):
    docs, _ = seed_index
    assert main(["index", "--docs", str(docs), "--index", str(tmp_path / "i")]) == 0
    assert "added (1)" in capsys.readouterr().out
    assert main(["index", "--docs", str(docs), "--index", str(tmp_path / "i")]) == 0
    assert "unchanged: 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "question, message",
    [("", "empty"), ("   ", "empty"), ("y" * 100_000, "limit is 2,000")],
)
def test_bad_questions_exit_2_with_one_line(question, message, seed_index, capsys):
    docs, index = seed_index
    assert main(["ask", question, "--docs", str(docs), "--index", str(index)]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error


def test_missing_docs_folder_exits_2(tmp_path, capsys):
    assert main(["index", "--docs", str(tmp_path / "nowhere"), "--index", str(tmp_path / "i")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_empty_docs_folder_exits_2_and_keeps_the_index(seed_index, tmp_path, capsys):
    docs, index = seed_index
    before = (index / "CURRENT").read_text()
    (tmp_path / "empty").mkdir()
    assert main(["index", "--docs", str(tmp_path / "empty"), "--index", str(index)]) == 2
    assert "No documents" in capsys.readouterr().err
    assert (index / "CURRENT").read_text() == before


def test_missing_index_says_how_to_build_it(seed_index, tmp_path, capsys):
    docs, _ = seed_index
    assert main(["ask", "Who?", "--docs", str(docs), "--index", str(tmp_path / "none")]) == 1
    error = capsys.readouterr().err
    assert "qa index" in error and "Traceback" not in error


def test_a_documents_folder_given_as_the_index_is_named_as_such(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "acme.txt").write_text("The Acme factory opened in 1921.\n")
    assert main(["ask", "When did the factory open?", "--index", str(docs)]) == 1
    error = capsys.readouterr().err
    assert f"{docs} holds documents (acme.txt), not an index: pass it as the documents folder (--docs)" in error
    assert "seeds" not in error and error.count("\n") == 1


def test_unreadable_index_says_how_to_rebuild_it(seed_index, tmp_path, capsys):
    import shutil

    docs, index = seed_index
    broken = tmp_path / "broken"
    shutil.copytree(index, broken)
    generation = broken / (broken / "CURRENT").read_text().strip()
    (generation / "documents.json").write_text("{not json")
    assert main(["ask", "Who?", "--docs", str(docs), "--index", str(broken)]) == 1
    error = capsys.readouterr().err
    assert "--rebuild" in error and error.count("\n") == 1


def test_python_dash_m_runs_the_cli_and_usage_errors_exit_2():
    result = run("ask")
    assert result.returncode == 2 and "question" in result.stderr
    blank = run("ask", " ", "--docs", str(ROOT / "seeds"), "--index", "/nonexistent/index")
    assert blank.returncode != 0 and "Traceback" not in blank.stderr


def test_eval_gold_measures_the_span_reader_on_gold_paragraphs(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    paragraphs = ["Armenia will withdraw from the CSTO if land lost to Azerbaijan is recognized.",
                  'Armenia has "frozen" its participation in the CSTO, Pashinyan announced on Feb. 23.']
    (tmp_path / "docs" / "seed.txt").write_text("\n\n".join(paragraphs))
    question = {"id": "1", "question": "When did Armenia freeze its CSTO participation?", "answers": ["Feb. 23"],
                "doc": "seed.txt", "paragraph": 1}
    (tmp_path / "questions.jsonl").write_text(json.dumps(question) + "\n")
    assert main(["eval", "--gold", "--questions", str(tmp_path / "questions.jsonl"), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics == {"questions": 1, "em": 100.0, "f1": 100.0}


@pytest.mark.parametrize(
    "argv",
    [["ask", "Who?", "--k", "0"], ["ask", "Who?", "--k", "-3"], ["eval", "--questions", "q.jsonl", "--limit", "0"],
     ["eval", "--questions", "q.jsonl", "--limit", "-1"], ["train-reader", "d.json", "--out", "run", "--eval-limit", "0"],
     ["train-reader", "d.json", "--out", "run", "--epochs", "0"], ["train-reader", "d.json", "--out", "run", "--batch-size", "-2"],
     ["train-reader", "d.json", "--out", "run", "--max-length", "0"], ["train-reader", "d.json", "--out", "run", "--minutes", "nan"],
     ["train-reader", "d.json", "--out", "run", "--max-steps", "0"], ["train-reader", "d.json", "--out", "run", "--threads", "0"]],
)
def test_counts_below_one_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        parse(argv)
    assert exit.value.code == 2
    assert f"argument {argv[-2]}: '{argv[-1]}' is not allowed: use a" in capsys.readouterr().err


def test_positive_counts_fractions_and_ports_are_accepted():
    assert parse(["ask", "Who?", "--k", "1"]).k == 1
    assert parse(["chat", "--port", "65535"]).port == 65535
    assert parse(["train-reader", "d.json", "--out", "run", "--epochs", "0.5"]).epochs == 0.5


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "http"])
def test_chat_port_must_be_a_tcp_port(port, capsys):
    with pytest.raises(SystemExit) as exit:
        parse(["chat", "--port", port])
    assert exit.value.code == 2 and "at most 65535" in capsys.readouterr().err


def test_eval_gold_needs_gold_paragraphs_and_says_so(tmp_path, capsys):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "1", "question": "Who?", "answers": ["Nikol Pashinyan"]}) + "\n")
    assert main(["eval", "--gold", "--questions", str(questions)]) == 2
    error = capsys.readouterr().err
    assert f"{questions}, line 1: --gold needs" in error and '"doc"' in error and '"paragraph"' in error
    assert error.count("\n") == 1


@pytest.mark.parametrize("content, reason", [
    (None, "No questions file at"), ("", "holds no questions"),
    ('{"question": "Who?", "answers": "Nikol Pashinyan"}\n', 'line 1: not a question record'),
    ('{"question": "Who?", "answers": ["me"]}\n[1, 2]\n', "line 2: not a question record"),
    ('{"question": 7, "answers": []}\n', '"question" must be text'),
])
def test_a_bad_questions_file_is_a_usage_error_said_before_any_model_loads(content, reason, tmp_path, capsys,
                                                                           monkeypatch):
    import qa.api

    monkeypatch.setattr(qa.api, "Engine", lambda *args, **kwargs: pytest.fail("an engine was made"))
    questions = tmp_path / "questions.jsonl"
    if content is not None:
        questions.write_text(content)
    assert main(["eval", "--questions", str(questions), "--index", str(tmp_path / "index")]) == 2
    error = capsys.readouterr().err
    assert reason in error and error.count("\n") == 1


def test_eval_prints_its_figures_in_one_column(seed_index, capsys):
    docs, index = seed_index
    dialogs = ROOT / "tests" / "data" / "dialogs_seed.jsonl"
    assert main(["eval", "--docs", str(docs), "--index", str(index), "--questions", str(dialogs), "--limit", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 5 and lines[0].startswith("dialogs:")
    columns = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in lines}  # where each value starts
    assert len(columns) == 1, lines


@pytest.mark.parametrize("command", ["index", "ask", "eval", "calibrate", "train-reader", "chat"])
def test_every_option_says_what_it_does(command, capsys):
    with pytest.raises(SystemExit):
        parse([command, "--help"])
    lines = capsys.readouterr().out.split("options:")[1].splitlines()[1:]
    for line, following in zip(lines, [*lines[1:], ""]):
        option = re.fullmatch(r"  (-\w, )?--[\w-]+( [A-Z_]+)*( [A-Z_]+ [A-Z_]+)?", line)
        assert not (option and not following.startswith(" " * 8)), f"{line.strip()} has no help"


def test_training_needs_a_folder_for_its_weights(capsys):
    """A trial run must not replace the shipped reader unless asked to."""
    with pytest.raises(SystemExit) as exit:
        parse(["train-reader", "d.json", "--max-steps", "2"])
    assert exit.value.code == 2 and "--out" in capsys.readouterr().err


@pytest.mark.parametrize("turns, reason", [
    ([["Who is Armenia's Prime Minister?", None]], "history turn 1 is"),
    ({"q": "a"}, "it holds a JSON dict, not a list"),
])
def test_a_malformed_history_file_says_what_a_turn_must_be(turns, reason, seed_index, tmp_path, capsys):
    docs, index = seed_index
    history = tmp_path / "history.json"
    history.write_text(json.dumps(turns))
    argv = ["ask", "When did he say it?", "--docs", str(docs), "--index", str(index), "--history", str(history)]
    assert main(argv) == 2
    assert reason in capsys.readouterr().err


def test_quotes_keep_their_indent_and_closest_passages_say_their_page(tmp_path, embedder, capsys):
    from fpdf import FPDF

    from index.build import build

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sevan.txt").write_text("Lake Sevan is the largest lake in Armenia and one\nof the largest freshwater "
                                    "high-altitude lakes in Eurasia.\n")
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 10, "Kura River\nThe Kura River flows into the Caspian Sea.")
    (docs / "kura.pdf").write_bytes(bytes(pdf.output()))
    build(docs, tmp_path / "index", embedder=embedder)
    location = ["--docs", str(docs), "--index", str(tmp_path / "index")]
    assert main(["ask", "Which is the largest lake in Armenia?", *location]) == 0
    out = capsys.readouterr().out
    assert '    "**Lake Sevan** is the largest lake in Armenia and one\n     of the largest' in out
    assert main(["ask", "What is the capital of France?", *location]) == 0
    out = capsys.readouterr().out
    assert "The documents don't say." in out and "- kura.pdf [page 1, characters 0-" in out
