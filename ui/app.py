"""Gradio web chat over qa's public API: answers shown with their citations highlighted in their passages."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
from argparse import ArgumentTypeError
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: nothing calls out

import gradio as gr  # noqa: E402

from qa import (  # noqa: E402
    SUPPORTED_SUFFIXES,
    Answer,
    Engine,
    IndexingError,
    NoDocumentsError,
    QuestionError,
    engine,
    update,
)
from qa.api import unreadable  # noqa: E402
from qa.cli import positive  # noqa: E402
from qa.config import SEEDS, folders  # noqa: E402

#: Questions offered when the index holds the seed article (clicking one asks it).
EXAMPLES = [
    "Who is Armenia's Prime Minister?",
    "What did Armenia threaten to do?",
    "When did Armenia freeze its CSTO participation?",
    "What did Pashinyan say about peacekeepers?",
]
#: Scrolls the chat so that the last question is at its top, its answer under it (the answer's cited passages
#: can be taller than the chat; Gradio's own scrolling shows their end).
SHOW_QUESTION = """() => setTimeout(() => {
  const questions = document.querySelectorAll('#chat .message-row.user-row');
  const last = questions[questions.length - 1];
  let box = last && last.parentElement;
  while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
  if (box) box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
}, 100)"""
#: Screen readers name each message by its text as shown: Gradio names it by the reply's HTML source
#: ("bot's message: <p><strong>..."). Kept in step with the chat as it changes (answers, reloads, Clear).
NAME_MESSAGES = """() => {
  const chat = document.getElementById('chat');
  if (!chat) return;
  const name = () => chat.querySelectorAll('[data-testid=bot], [data-testid=user]').forEach(message => {
    const who = message.dataset.testid === 'bot' ? "bot's message: " : "user's message: ";
    const label = who + message.innerText.replace(/\\s+/g, ' ').trim();
    if (message.getAttribute('aria-label') !== label) message.setAttribute('aria-label', label);
  });
  new MutationObserver(name).observe(chat, {subtree: true, childList: true, characterData: true,
                                            attributes: true, attributeFilter: ['aria-label']});
  name();
}"""
#: Characters of the passage shown on each side of a quoted span.
CONTEXT_CHARS = 300
#: Largest file accepted from the page, in MiB, unless the environment variable QA_MAX_UPLOAD_MB says otherwise.
DEFAULT_MAX_UPLOAD_MB = 10
#: Bytes in a MiB, the unit of QA_MAX_UPLOAD_MB.
MIB = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
#: Characters that HTML, Markdown or LaTeX would interpret; document text shows them literally.
_ACTIVE = set("&<>\"'`*_{}[]()#+-.!|~$\\=:")


def literal(text: str) -> str:
    """`text` as character references wherever a character could be markup, so it always shows as text."""
    return "".join(f"&#{ord(c)};" if c in _ACTIVE else c for c in text).replace("\n", "<br>")


def context(text: str, start: int, end: int) -> tuple[str, str]:
    """The text shown before and after `text[start:end]`: at most CONTEXT_CHARS on each side, cut between words
    (where a word runs over the limit, it is left out)."""
    before, after = text[max(0, start - CONTEXT_CHARS) : start], text[end : end + CONTEXT_CHARS]
    first, last = start - len(before), end + len(after)  # where the shown text begins and ends
    if first > 0 and not (text[first - 1].isspace() or text[first].isspace()):  # cut inside a word: drop its rest
        before = before[len(before.split(maxsplit=1)[0]) :] if before.strip() else ""
    if last < len(text) and not (text[last].isspace() or text[last - 1].isspace()):
        after = after[: len(after) - len(after.rsplit(maxsplit=1)[-1])] if after.strip() else ""
    return before, after


def render(answer: Answer, qa: Engine) -> str:
    """The reply: the answer, then each citation's title, file, score and the quote marked in its passage (the
    short answer in bold inside it);
    when nothing was found, the closest passages."""
    parts = []
    if answer.stale:
        parts.append(
            "<p><i>The documents folder changed since the index was built; this answer comes from the index "
            "as built. Open Documents and press Add to the index to update it.</i></p>"
        )
    parts.append(f"<p><strong>{literal(answer.text)}</strong> <small>(score {answer.score:.2f})</small></p>")
    if answer.added:
        parts.append(f"<p><small>searching for: {literal(answer.query)}</small></p>")
    for number, citation in enumerate(answer.citations, 1):
        text = qa.store.document(citation.doc).text
        before, after = context(text, citation.start, citation.end)
        quote_before, short, quote_after = citation.parts()
        quote = f"{literal(quote_before)}<strong>{literal(short)}</strong>{literal(quote_after)}" if short != citation.quote else literal(short)
        parts.append(
            f"<details{' open' if number == 1 else ''}><summary>[{number}] {literal(citation.title)} "
            f"<small>{literal(citation.doc)}, {_pages(citation.pages)}characters {citation.start}-{citation.end}, "
            f"score {citation.score:.2f}</small></summary>"
            f"<blockquote>{'…' if citation.start > len(before) else ''}{literal(before)}<mark>{quote}</mark>"
            f"{literal(after)}{'…' if citation.end + len(after) < len(text) else ''}</blockquote></details>"
        )
    if not answer.found:
        parts.append("<p>Closest passages:</p>")
        for passage in answer.passages[:3]:
            parts.append(
                f"<details><summary>{literal(passage.title)} <small>{literal(passage.doc)}, "
                f"{_pages(qa.store.document(passage.doc).pages_of(passage.start, passage.end))}characters "
                f"{passage.start}-{passage.end}, score {passage.score:.2f}</small></summary>"
                f"<blockquote>{literal(passage.text)}</blockquote></details>"
            )
    return "\n".join(parts)


class UploadRefused(ValueError):
    """An uploaded file that was not saved; the message says why."""


def safe_name(name: str) -> str:
    """A plain file name from an uploaded name: no folders, no leading dots, only letters, digits, `._ -`."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).lstrip(". ").strip()[-120:]
    return cleaned or "document.txt"


def max_upload_bytes() -> int:
    """The largest file accepted from the page, in bytes: QA_MAX_UPLOAD_MB MiB (default 10); a ValueError naming
    the variable when it is not a positive number."""
    setting = os.environ.get("QA_MAX_UPLOAD_MB", str(DEFAULT_MAX_UPLOAD_MB))
    try:
        return int(positive(float)(setting) * MIB)
    except ArgumentTypeError:
        raise ValueError(
            f"QA_MAX_UPLOAD_MB={setting!r} is not a size: set it to a positive number of MiB (the largest file the "
            f"chat accepts, default {DEFAULT_MAX_UPLOAD_MB}) or unset it."
        ) from None


def save_upload(source: Path, name: str, docs: Path, max_bytes: int, known: dict[str, str] | None = None) -> str:
    """Copy one uploaded file into `docs` under a safe, new name (an existing file is never replaced) and
    return that name; UploadRefused when its type or size (over `max_bytes`) can't be indexed, it is empty, the
    index could not read it (a binary file, a damaged PDF: such a file is not left in the folder), or its content
    is already a document's (`known`: sha256 -> document id, to which the saved file is added)."""
    name = safe_name(name)
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UploadRefused(f"{name}: only {', '.join(SUPPORTED_SUFFIXES)} files can be added")
    size = source.stat().st_size
    if size > max_bytes:
        raise UploadRefused(f"{name}: {size / MIB:.1f} MiB is over the {max_bytes / MIB:g} MiB limit")
    data = source.read_bytes()
    if not data.strip():
        raise UploadRefused(f"{name}: empty")
    known = {} if known is None else known
    digest = hashlib.sha256(data).hexdigest()
    if digest in known:
        raise UploadRefused(f"{name}: the same content as {known[digest]}, already among the documents")
    folder = docs.resolve()
    for number in range(1, 1000):
        candidate = folder / (name if number == 1 else f"{stem}-{number}{suffix}")
        if candidate.parent != folder:
            raise UploadRefused(f"{name}: not a plain file name")
        try:
            with open(candidate, "xb") as target:  # exclusive: never overwrites
                target.write(data)
        except FileExistsError:
            continue
        reason = unreadable(candidate)
        if reason:
            candidate.unlink()
            raise UploadRefused(f"{name}: {reason}")
        known[digest] = candidate.name
        return candidate.name
    raise UploadRefused(f"{name}: too many files of that name")


def _pages(pages: list[int]) -> str:
    return f"page {', '.join(map(str, pages))}, " if pages else ""


def examples_for(qa: Engine | None) -> list[str]:
    """EXAMPLES when the index holds a file of the seed corpus (they ask about it), else none."""
    if qa is None:
        return []
    seeds = {hashlib.sha256(path.read_bytes()).hexdigest() for path in SEEDS.iterdir() if path.is_file()}
    held = {entry["sha256"] for entry in qa.store.manifest["documents"].values()}
    return EXAMPLES if seeds & held else []


def _shown(message: dict) -> str:
    """The HTML of a chat message, as the page sends it back (a string, or a list of text parts)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


class ChatApp:
    """The chat page over one documents folder and index."""

    def __init__(self, docs: os.PathLike | str | None = None, index: os.PathLike | str | None = None) -> None:
        self.max_upload_bytes = max_upload_bytes()  # first: a bad setting is reported before the index loads
        self.docs, self.index = folders(docs, index)
        self.qa: Engine | None = None  # None until the folder has a document: the page adds the first ones
        self.empty = ""  # why there is no engine yet
        try:
            self.qa = engine(self.docs, self.index)
        except NoDocumentsError as error:
            self.empty = f"{error} Add documents under Documents."
        self._updating = threading.Lock()

    def status(self) -> str:
        """The status line: the index in use, or why there is none yet."""
        return literal(self.qa.description() if self.qa is not None else self.empty)

    def add_documents(self, paths: list[str] | None, progress=gr.Progress(track_tqdm=True)) -> tuple[str, str, None]:
        """Save uploaded files into the documents folder, then update the index (only what changed in the
        folder is embedded); with no file chosen, just update the index."""
        saved, refused = [], []
        held = self.qa.store.manifest["documents"] if self.qa is not None else {}
        known = {entry["sha256"]: doc_id for doc_id, entry in held.items()}
        for path in paths or []:
            try:
                saved.append(save_upload(Path(path), Path(path).name, self.docs, self.max_upload_bytes, known))
            except UploadRefused as error:
                refused.append(str(error))
        lines = [f"Refused {reason}." for reason in refused]
        if saved:  # the update names them among what it added
            lines.insert(0, self.refresh(progress))
        elif not refused:  # no file chosen: bring the index in line with the folder
            lines.append(f"No file was chosen, so the index was brought in line with the folder. {self.refresh(progress)}")
        return self.status(), literal(" ".join(lines)), None

    def rebuild(self, progress=gr.Progress(track_tqdm=True)) -> tuple[str, str]:
        """Embed every document again."""
        message = literal(self.refresh(progress, rebuild=True))
        return self.status(), message

    def refresh(self, progress=None, rebuild: bool = False) -> str:
        """Update the index (build it over the first documents); questions are answered from the previous one
        until the new one is swapped in. What went wrong (no documents left ...) is the message instead."""
        with self._updating:
            if progress is not None:
                progress(0, desc="Updating the index")
            try:
                summary = None
                if self.qa is None:  # the first documents: the engine builds the index over them
                    self.qa = engine(self.docs, self.index)
                    summary = self.qa.built
                if summary is None:
                    self.qa, summary = update(self.qa, rebuild=rebuild)
            except IndexingError as error:
                return f"The index was not updated: {error}"
        changes = "".join(f" {label.capitalize()}: {', '.join(ids)}." for label, ids in (
            ("added", summary.added), ("updated", summary.updated), ("removed", summary.removed),
            ("renamed", [f"{old} to {new}" for old, new in summary.renamed])) if ids)
        problems = "".join(f" Skipped {s.id}: {s.reason}." for s in summary.skipped)
        problems += "".join(f" Flagged {s.id}: {s.reason}." for s in summary.flagged)
        return f"Index updated: {summary.headline}.{changes}{problems}"

    def answer(self, question: str, history: list[tuple[str, str]] | None = None) -> Answer:
        """The engine's answer; a gr.Error with the reason when the question can't be asked (blank, too long, no
        documents yet), so that the page and API clients show it."""
        if self.qa is None:
            raise gr.Error(f"There are no documents to answer from yet. {self.empty}", print_exception=False)
        try:
            return self.qa.answer(question, history=history)
        except QuestionError as error:
            raise gr.Error(str(error), print_exception=False) from error  # the user's mistake, not the server's

    def respond(self, message: str, messages: list[dict], pairs: list[tuple[str, str]]):
        """Answer `message`; the chat shows the question and the rendered reply, `pairs` keeps the history. A
        question that can't be asked (blank, too long) gets the reason, and stays in the box to be changed."""
        try:
            answer = self.answer(message, pairs)
        except gr.Error as error:
            refusal = f"<p>{literal(error.message)}</p>"
            if messages and messages[-1].get("role") == "assistant" and _shown(messages[-1]) == refusal:
                return messages, pairs, message  # said just before (a second Enter on an empty box)
            return messages + [{"role": "assistant", "content": refusal}], pairs, message
        shown = message if len(message) <= 500 else message[:500] + "…"
        reply = render(answer, self.qa)
        messages = messages + [{"role": "user", "content": literal(shown)}, {"role": "assistant", "content": reply}]
        return messages, pairs + [(message.strip(), answer.text)], ""

    def blocks(self) -> gr.Blocks:
        with gr.Blocks(title="qa: cited answers from your documents") as page:
            gr.Markdown("## Ask your documents\nEvery answer is a verbatim span of the documents, with where it came from.")
            # No share button (nothing leaves the machine) and no copy buttons (they copy the reply's escaped HTML).
            # Not scrolled to the bottom of a long reply: SHOW_QUESTION brings the question and its answer into view.
            chat = gr.Chatbot(label="Chat", height=520, latex_delimiters=[], sanitize_html=True, buttons=[],
                              autoscroll=False, elem_id="chat")
            # The conversation is kept in the browser (localStorage), so that a reload brings it back.
            key = hashlib.sha256(str(self.index.resolve()).encode()).hexdigest()[:12]
            pairs = gr.BrowserState([], storage_key=f"qa-history-{key}")
            shown = gr.BrowserState([], storage_key=f"qa-chat-{key}")
            with gr.Row():
                question = gr.Textbox(label="Question", placeholder="Ask a question about the documents",
                                      show_label=False, scale=8)
                ask = gr.Button("Ask", variant="primary", scale=1)
            examples = examples_for(self.qa)
            if examples:
                chosen = gr.Examples(examples, inputs=question, label="Examples (click one to ask it)")
                chosen.load_input_event.then(self.respond, [question, chat, pairs], [chat, pairs, question],
                                             api_name=False).then(lambda m: m, chat, shown, api_name=False).then(None, js=SHOW_QUESTION)
            with gr.Accordion("Documents", open=self.qa is None):  # open while there is none yet
                files = gr.File(label=f"Add documents ({', '.join(SUPPORTED_SUFFIXES)})", file_count="multiple",
                                file_types=list(SUPPORTED_SUFFIXES), type="filepath")
                with gr.Row():
                    add = gr.Button("Add to the index")
                    rebuild = gr.Button("Rebuild the index")
                message = gr.Markdown()
            state = gr.Markdown(self.status(), elem_id="status")
            # One listener for both: a second Enter or click while a question is answered is ignored.
            gr.on([question.submit, ask.click], self.respond, [question, chat, pairs], [chat, pairs, question],
                  api_visibility="private", trigger_mode="once").then(lambda m: m, chat, shown, api_name=False) \
                .then(None, js=SHOW_QUESTION)
            chat.clear(lambda: ([], []), None, [pairs, shown], api_name=False)  # a cleared chat starts without history
            page.load(lambda saved: (self.status(), saved), shown, [state, chat], api_name=False)  # the index as it is now
            page.load(None, js=NAME_MESSAGES)
            add.click(self.add_documents, [files], [state, message, files], api_name=False)
            rebuild.click(self.rebuild, None, [state, message], api_name=False)
            gr.api(self.ask, api_name="ask")
        return page

    def ask(self, question: str) -> dict:
        """The API endpoint: one question, the answer as `qa ask --json` prints it."""
        return self.answer(question).record()


def launch(docs=None, index=None, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None) -> None:
    """Serve the chat; `auth` is "user:password" (or env QA_AUTH) and is required to bind beyond localhost."""
    auth = auth or os.environ.get("QA_AUTH")
    if host not in ("127.0.0.1", "localhost", "::1") and not auth:
        raise ValueError(f"Binding to {host} exposes your documents: pass --auth user:password (or set QA_AUTH).")
    credentials = None
    if auth:
        user, _, password = auth.partition(":")
        if not (user and password):
            raise ValueError("--auth must look like user:password, with neither the user nor the password empty")
        credentials = (user, password)
    refuse_taken_port(host, port)  # before the model loads: a port in use is said at once, in our words
    page = ChatApp(docs, index).blocks()
    page.launch(server_name=host, server_port=port, auth=credentials, show_error=False, quiet=True,
                prevent_thread_lock=True)
    print(f"qa chat at http://{host}:{port}", flush=True)  # once it is served there
    page.block_thread()


def refuse_taken_port(host: str, port: int) -> None:
    """Raise OSError, saying to pass another --port, when `port` on `host` cannot be listened on."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is not "in use"
        try:
            probe.bind(address)
        except OSError as error:
            raise OSError(f"Port {port} on {host} can't be used ({error.strerror}): another program is serving "
                          f"there; pass another port, for example --port {port + 1 if port < 65535 else port - 1}."
                          ) from None
