"""The web chat: API through gradio_client, literal rendering of document text, bad input, and a real
browser (Debian's chromium driven by playwright) asking a seed question."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

import ui.app
from qa.api import Engine
from qa.cli import main
from tests.conftest import ROOT, SEEDS
from ui.app import (
    EXAMPLES,
    MIB,
    ChatApp,
    UploadRefused,
    context,
    examples_for,
    launch,
    literal,
    render,
    safe_name,
    save_upload,
)

HOSTILE = (
    "Lake Sevan\n\n<script>window.pwned = 1</script> **Lake Sevan** is the largest lake in Armenia, "
    "at <b>1,900</b> metres above sea level. $x$ [link](javascript:alert(1))\n"
)
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(SEEDS, root / "docs")
    (root / "docs" / "sevan.md").write_text(HOSTILE)
    Engine(root / "docs", root / "index", embedder=embedder)  # builds the index with the shared model
    app = ChatApp(root / "docs", root / "index")
    port = free_port()
    page = app.blocks()
    page.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield app, f"http://127.0.0.1:{port}/"
    page.close()


def test_literal_escapes_every_markup_character():
    shown = literal("<script>alert(1)</script> **b** $x$ [a](b)")
    assert "<" not in shown and "*" not in shown and "$" not in shown and "[" not in shown
    assert "&#60;script&#62;" in shown


def test_the_context_around_a_quote_is_cut_between_words(monkeypatch):
    monkeypatch.setattr(ui.app, "CONTEXT_CHARS", 10)
    text = "alpha bravo charlie delta echo foxtrot golf"
    start = text.index("delta")
    assert context(text, start, start + len("delta")) == (" charlie ", " echo ")  # not "o charlie ", " echo foxt"
    start = text.index("bravo")
    assert context(text, start, start + len("bravo")) == ("alpha ", " charlie ")  # whole words are kept


def test_closest_passages_show_their_score(hostile_app):
    app, _ = hostile_app
    answer = app.qa.answer("What is the capital of France?")
    html = render(answer, app.qa)
    closest = html.split("Closest passages:")[1]
    assert not answer.found and f"score {answer.passages[0].score:.2f}" in closest.replace("&#46;", ".")


def test_rendered_answer_marks_the_quote_and_keeps_document_markup_inert(hostile_app):
    app, _ = hostile_app
    answer = app.qa.answer("How high above sea level is Lake Sevan?")
    assert answer.found and answer.citations[0].doc == "sevan.md"
    html = render(answer, app.qa)
    assert "<mark>" in html and "<script" not in html and "<b>1,900" not in html and "**" not in html
    before, short, after = answer.citations[0].parts()
    assert f"<mark>{literal(before)}<strong>{literal(short)}</strong>{literal(after)}</mark>" in html
    assert short and short == answer.text and short != answer.citations[0].quote
    first = html.split("</details>")[0]  # the document is shorter than the context: no "…" at either end
    assert "<blockquote>…" not in first and "…</blockquote>" not in first


def test_api_answers_through_gradio_client(hostile_app):
    from gradio_client import Client

    app, url = hostile_app
    record = Client(url, verbose=False).predict("Who is Armenia's Prime Minister?", api_name="/ask")
    assert record["found"] is True
    citation = record["citations"][0]
    text = app.qa.store.document(citation["doc"]).text
    assert text[citation["start"] : citation["end"]] == citation["quote"] and "Nikol Pashinyan" in citation["quote"]


def test_the_api_has_one_endpoint(hostile_app):
    from gradio_client import Client

    _, url = hostile_app
    api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"] and not api["unnamed_endpoints"]


def test_api_reports_a_bad_question_to_the_client(hostile_app):
    from gradio_client import Client

    _, url = hostile_app
    with pytest.raises(Exception, match="The question is empty"):
        Client(url, verbose=False).predict("   ", api_name="/ask")


@pytest.mark.parametrize("question, message", [("   ", "empty"), ("z" * 100_000, "limit")])
def test_bad_questions_get_a_message_in_the_chat(question, message, hostile_app):
    app, _ = hostile_app
    messages, pairs, kept = app.respond(question, [], [])
    assert message in messages[-1]["content"].replace("&#32;", " ") and pairs == []
    assert kept == question  # left in the box to be changed, and not shown as a question asked
    assert [m["role"] for m in messages] == ["assistant"] and len(messages[0]["content"]) < 10_000


def test_a_refusal_is_not_repeated_for_a_second_empty_question(hostile_app):
    app, _ = hostile_app
    messages, _, _ = app.respond("", [], [])
    # the page sends a message back as a list of text parts
    returned = [{"role": "assistant", "metadata": None, "options": None,
                 "content": [{"type": "text", "text": messages[-1]["content"]}]}]
    again, pairs, kept = app.respond("  ", returned, [])
    assert again == returned and pairs == [] and kept == "  "


def test_follow_ups_carry_the_history(hostile_app):
    app, _ = hostile_app
    _, pairs, _ = app.respond("Who is Armenia's Prime Minister?", [], [])
    assert pairs[0][0] == "Who is Armenia's Prime Minister?" and "Pashinyan" in pairs[0][1]


def test_binding_beyond_localhost_needs_a_password(monkeypatch):
    monkeypatch.delenv("QA_AUTH", raising=False)
    with pytest.raises(ValueError, match="--auth"):
        launch(host="0.0.0.0")


def refuse_to_serve(*args, **kwargs):
    pytest.fail("the chat was started")


@pytest.mark.parametrize("auth", [":", "user:", ":secret", "user"])
def test_auth_needs_a_user_and_a_password(auth, monkeypatch, capsys):
    monkeypatch.setattr(ui.app, "ChatApp", refuse_to_serve)
    assert main(["chat", "--host", "0.0.0.0", "--auth", auth]) == 1
    error = capsys.readouterr().err
    assert "--auth must look like user:password" in error and "empty" in error and error.count("\n") == 1


def test_a_port_in_use_is_said_before_the_chat_starts(monkeypatch, capsys):
    monkeypatch.setattr(ui.app, "ChatApp", refuse_to_serve)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["chat", "--port", str(port)]) == 1
    out, error = capsys.readouterr()
    assert f"Port {port} on 127.0.0.1 can't be used" in error and "--port" in error and error.count("\n") == 1
    assert "GRADIO" not in error and "qa chat at" not in out


@pytest.mark.parametrize("setting", ["abc", "-1", "0", "nan"])
def test_a_bad_upload_limit_is_refused_before_the_chat_starts(setting, seed_index, monkeypatch, capsys):
    docs, index = seed_index
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", setting)
    monkeypatch.setattr(ChatApp, "blocks", refuse_to_serve)
    assert main(["chat", "--docs", str(docs), "--index", str(index)]) == 1
    error = capsys.readouterr().err
    assert f"QA_MAX_UPLOAD_MB={setting!r}" in error and "positive number of MiB" in error


def test_upload_limit_is_in_mib(monkeypatch):
    monkeypatch.delenv("QA_MAX_UPLOAD_MB", raising=False)
    assert ui.app.max_upload_bytes() == 10 * MIB
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "0.5")
    assert ui.app.max_upload_bytes() == MIB // 2


@pytest.mark.parametrize(
    "name, expected",
    [("../../etc/evil.txt", "evil.txt"), ("..\\..\\win.md", "win.md"), (".hidden.txt", "hidden.txt"),
     ("a<b>|c.txt", "a_b_c.txt"), ("", "document.txt")],
)
def test_upload_names_are_made_plain(name, expected):
    assert safe_name(name) == expected


def test_uploads_are_saved_inside_the_folder_never_overwriting(tmp_path):
    docs, outside = tmp_path / "docs", tmp_path / "outside.txt"
    docs.mkdir()
    source = tmp_path / "upload.bin"
    source.write_text("Lake Sevan is large.")
    assert save_upload(source, "../outside.txt", docs, MIB) == "outside.txt"
    assert not outside.exists() and (docs / "outside.txt").read_text() == "Lake Sevan is large."
    assert save_upload(source, "outside.txt", docs, MIB) == "outside-2.txt"
    assert (docs / "outside.txt").read_text() == "Lake Sevan is large."
    known = {}
    source.write_text("Lake Sevan is deep.")
    assert save_upload(source, "deep.txt", docs, MIB, known) == "deep.txt" and list(known.values()) == ["deep.txt"]
    with pytest.raises(UploadRefused, match="copy.txt: the same content as deep.txt, already among the documents"):
        save_upload(source, "copy.txt", docs, MIB, known)
    with pytest.raises(UploadRefused, match="only .txt, .md"):
        save_upload(source, "tool.exe", docs, MIB)
    source.write_bytes(b"x" * (3 * MIB // 2))
    with pytest.raises(UploadRefused, match="1.5 MiB is over the 1 MiB limit"):
        save_upload(source, "big.txt", docs, MIB)
    source.write_bytes(b"")
    with pytest.raises(UploadRefused, match="empty"):
        save_upload(source, "empty.txt", docs, MIB)
    source.write_bytes(b"\x00\x01 compiled code")  # what the index would skip is not left in the folder
    with pytest.raises(UploadRefused, match="binary file"):
        save_upload(source, "program.txt", docs, MIB)
    source.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(UploadRefused, match="broken.pdf: "):
        save_upload(source, "broken.pdf", docs, MIB)
    assert sorted(p.name for p in docs.iterdir()) == ["deep.txt", "outside-2.txt", "outside.txt"]


def test_adding_documents_updates_the_index_and_answers_from_it(tmp_path, seed_index, embedder):
    docs, _ = seed_index
    own = tmp_path / "docs"
    shutil.copytree(docs, own)
    Engine(own, tmp_path / "index", embedder=embedder)
    app = ChatApp(own, tmp_path / "index")
    before = app.qa
    upload = tmp_path / "kura.txt"
    upload.write_text("Kura River\n\nThe Kura River is 1,364 kilometres long and flows into the Caspian Sea.\n")
    state, message, cleared = app.add_documents([str(upload), str(tmp_path / "x.exe")], progress=None)
    assert "Added: kura.txt" in message.replace("&#46;", ".").replace("&#58;", ":") and "Refused" in message
    assert cleared is None and "2 documents" in state.replace("&#44;", ",") and app.qa is not before
    assert before.answer("Who is Armenia's Prime Minister?").found  # the old engine still answers
    answer = app.qa.answer("How long is the Kura River?")
    assert answer.found and answer.citations[0].doc == "kura.txt"
    (own / "kura.txt").unlink()  # changed on disk, then a rebuild: its message and the status line say so
    state, message = app.rebuild(progress=None)
    assert "Removed: kura.txt" in message.replace("&#46;", ".").replace("&#58;", ":")
    assert "1 document," in state.replace("&#44;", ",")


def test_the_chat_starts_on_an_empty_folder_and_indexes_the_first_upload(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(ui.app, "engine", lambda docs, index: Engine(docs, index, embedder=embedder))
    (tmp_path / "docs").mkdir()
    app = ChatApp(tmp_path / "docs", tmp_path / "index")
    assert app.qa is None and "No documents to index" in app.status() and "Add documents under Documents&#46;" in app.status()
    assert examples_for(app.qa) == []
    import gradio as gr

    (documents,) = [block for block in app.blocks().blocks.values() if isinstance(block, gr.Accordion)]
    assert documents.open  # where the first documents are added
    messages, pairs, kept = app.respond("How long is the Kura River?", [], [])
    assert "no documents to answer from yet" in messages[-1]["content"] and pairs == []
    assert kept == "How long is the Kura River?"  # asked again once there are documents
    state, message = app.rebuild(progress=None)  # nothing to build yet: said, not raised
    assert "not updated" in message and app.qa is None
    upload = tmp_path / "kura.txt"
    upload.write_text("Kura River\n\nThe Kura River is 1,364 kilometres long and flows into the Caspian Sea.\n")
    state, message, _ = app.add_documents([str(upload)], progress=None)
    plain = message.replace("&#46;", ".").replace("&#58;", ":")
    assert "Index updated: 1 document, " in plain and "Added: kura.txt" in plain
    assert "1 document, " in state.replace("&#44;", ",") and app.qa is not None
    messages, pairs, kept = app.respond(kept, [], [])
    assert "1,364 kilometres" in app.qa.answer("How long is the Kura River?").citations[0].quote
    assert pairs and kept == ""
    state, message, _ = app.add_documents(None, progress=None)  # later updates go through the engine
    assert "embedded 0 chunks in" in message and "Index updated: 1 document" in message.replace("&#58;", ":")
    assert message.startswith("No file was chosen, so the index was brought in line with the folder&#46;")


def test_examples_are_offered_over_the_seed_article_only(seed_index, tmp_path, embedder):
    assert examples_for(Engine(*seed_index, embedder=embedder)) == EXAMPLES
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "kura.txt").write_text("Kura River\n\nThe Kura River flows into the Caspian Sea.\n")
    assert examples_for(Engine(tmp_path / "docs", tmp_path / "index", embedder=embedder)) == []


def test_in_a_real_browser(hostile_app):
    if not shutil.which("chromium") and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (`apt-get install -y chromium`); CI installs it")
    from playwright.sync_api import sync_playwright

    _, url = hostile_app
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.goto(url)
        box = page.get_by_placeholder("Ask a question about the documents")
        page.get_by_text("When did Armenia freeze its CSTO participation?").click()  # an example asks itself
        page.wait_for_selector("details[open] mark", timeout=60_000)
        assert box.input_value() == ""
        assert "Feb. 23" in page.locator("details[open] mark").last.inner_text()
        box.fill("What is the largest lake in Armenia?")
        page.get_by_role("button", name="Ask").click()
        page.wait_for_function("document.querySelectorAll('details[open] mark').length >= 2", timeout=60_000)
        assert "Lake Sevan" in page.locator("details[open] mark").last.inner_text()
        page.wait_for_timeout(200)
        names = page.eval_on_selector_all("#chat [data-testid=bot]", "all => all.map(m => m.getAttribute('aria-label'))")
        assert names[-1].startswith("bot's message: Lake Sevan") and "<p>" not in names[-1] and "<strong>" not in names[-1]
        assert "<script>window.pwned = 1</script>" in page.locator("body").inner_text()
        assert page.evaluate("window.pwned") is None
        page.get_by_text("Documents", exact=True).click()
        upload = ARTIFACTS / "kura.txt"
        upload.write_text("Kura River\n\nThe Kura River is 1,364 kilometres long and flows into the Caspian Sea.\n")
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_role("button", name="Add to the index").click()
        page.wait_for_function("document.querySelector('#status').innerText.includes('3 documents')", timeout=120_000)
        box.fill("How long is the Kura River?")
        page.get_by_role("button", name="Ask").click()
        page.wait_for_function("document.querySelectorAll('details[open] mark').length >= 3", timeout=60_000)
        assert "1,364 kilometres" in page.locator("details[open] mark").last.inner_text()
        screenshot = ARTIFACTS / "chat.png"
        page.screenshot(path=str(screenshot), full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844})  # a reply taller than the chat
        phone.goto(url)
        phone.get_by_placeholder("Ask a question about the documents").fill("Who is Armenia's Prime Minister?")
        phone.get_by_role("button", name="Ask").click()
        phone.wait_for_selector("details[open] mark", timeout=60_000)
        phone.wait_for_timeout(500)
        top = phone.evaluate("""() => {
            const rows = document.querySelectorAll('#chat .message-row.user-row');
            return rows[rows.length - 1].getBoundingClientRect().top - document.querySelector('#chat').getBoundingClientRect().top;
        }""")
        assert 0 <= top < 60, f"the question is {top} px from the top of the chat"  # Gradio showed the reply's end
        phone.reload()  # the conversation comes back, and goes on with its history
        phone.wait_for_selector("#chat .message-row.user-row", timeout=30_000)
        phone.get_by_placeholder("Ask a question about the documents").fill("When did he freeze its CSTO participation?")
        phone.get_by_role("button", name="Ask").click()
        phone.wait_for_function("document.querySelectorAll('#chat .message-row.bot-row').length >= 2", timeout=60_000)
        assert "Prime Minister" in phone.locator("#chat .message-row.bot-row").last.inner_text()  # searched with it
        browser.close()
    print(f"screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
