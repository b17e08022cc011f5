"""Gradio web chat over qa's public API: answers shown with their citations highlighted in their passages."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: nothing calls out

import gradio as gr  # noqa: E402

from qa import Answer, Engine, QuestionError, engine  # noqa: E402

EXAMPLES = [
    "Who is Armenia's Prime Minister?",
    "What did Armenia threaten to do?",
    "When did Armenia freeze its CSTO participation?",
    "What did Pashinyan say about peacekeepers?",
]
#: Characters of the passage shown on each side of a quoted span.
CONTEXT_CHARS = 300
#: Characters that HTML, Markdown or LaTeX would interpret; document text shows them literally.
_ACTIVE = set("&<>\"'`*_{}[]()#+-.!|~$\\=:")


def literal(text: str) -> str:
    """`text` as character references wherever a character could be markup, so it always shows as text."""
    return "".join(f"&#{ord(c)};" if c in _ACTIVE else c for c in text).replace("\n", "<br>")


def render(answer: Answer, qa: Engine) -> str:
    """The reply: the answer, then each citation's title, file, score and the quote marked in its passage;
    when nothing was found, the closest passages."""
    parts = [f"<p><b>{literal(answer.text)}</b> <small>(score {answer.score:.2f})</small></p>"]
    for number, citation in enumerate(answer.citations, 1):
        text = qa.store.document(citation.doc).text
        before = text[max(0, citation.start - CONTEXT_CHARS) : citation.start]
        after = text[citation.end : citation.end + CONTEXT_CHARS]
        parts.append(
            f"<details{' open' if number == 1 else ''}><summary>[{number}] {literal(citation.title)} "
            f"<small>{literal(citation.doc)}, characters {citation.start}-{citation.end}, "
            f"score {citation.score:.2f}</small></summary>"
            f"<blockquote>…{literal(before)}<mark>{literal(citation.quote)}</mark>{literal(after)}…</blockquote></details>"
        )
    if not answer.found:
        parts.append("<p>Closest passages:</p>")
        for passage in answer.passages[:3]:
            parts.append(
                f"<details><summary>{literal(passage.title)} <small>{literal(passage.doc)}, characters "
                f"{passage.start}-{passage.end}</small></summary><blockquote>{literal(passage.text)}</blockquote></details>"
            )
    return "\n".join(parts)


def status(qa: Engine) -> str:
    manifest = qa.store.manifest
    return (
        f"{len(manifest['documents'])} documents, {manifest['chunks']} chunks · model {manifest['model']} · "
        f"updated {manifest['updated']} · folder {qa.docs}"
    )


class ChatApp:
    """The chat page over one documents folder and index."""

    def __init__(self, docs: os.PathLike | str | None = None, index: os.PathLike | str | None = None) -> None:
        self.qa = engine(docs, index)

    def respond(self, message: str, messages: list[dict], pairs: list[tuple[str, str]]):
        """Answer `message`; the chat shows the question and the rendered reply, `pairs` keeps the history."""
        try:
            answer = self.qa.answer(message, history=pairs)
        except QuestionError as error:
            reply, answer_text = f"<p>{literal(str(error))}</p>", None
        else:
            reply, answer_text = render(answer, self.qa), answer.text
        shown = message if len(message) <= 500 else message[:500] + "…"
        messages = messages + [{"role": "user", "content": literal(shown)}, {"role": "assistant", "content": reply}]
        if answer_text is not None:
            pairs = pairs + [(message.strip(), answer_text)]
        return messages, pairs, ""

    def blocks(self) -> gr.Blocks:
        with gr.Blocks(title="qa: cited answers from your documents") as page:
            gr.Markdown("## Ask your documents\nEvery answer is a verbatim span of the documents, with where it came from.")
            chat = gr.Chatbot(label="Chat", height=520, latex_delimiters=[], sanitize_html=True)
            pairs = gr.State([])
            with gr.Row():
                question = gr.Textbox(placeholder="Ask a question about the documents", show_label=False, scale=8)
                ask = gr.Button("Ask", variant="primary", scale=1)
            gr.Examples(EXAMPLES, inputs=question)
            gr.Markdown(literal(status(self.qa)))
            for trigger in (question.submit, ask.click):
                trigger(self.respond, [question, chat, pairs], [chat, pairs, question], api_name=False)
            gr.api(self.ask, api_name="ask")
        return page

    def ask(self, question: str) -> dict:
        """The API endpoint: one question, the answer as `qa ask --json` prints it."""
        return self.qa.answer(question).record()


def launch(docs=None, index=None, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None) -> None:
    """Serve the chat; `auth` is "user:password" (or env QA_AUTH) and is required to bind beyond localhost."""
    auth = auth or os.environ.get("QA_AUTH")
    if host not in ("127.0.0.1", "localhost", "::1") and not auth:
        raise ValueError(f"Binding to {host} exposes your documents: pass --auth user:password (or set QA_AUTH).")
    credentials = tuple(auth.split(":", 1)) if auth else None
    if credentials is not None and len(credentials) != 2:
        raise ValueError("--auth must look like user:password")
    page = ChatApp(docs, index).blocks()
    print(f"qa chat at http://{host}:{port}", flush=True)
    page.launch(server_name=host, server_port=port, auth=credentials, show_error=False, quiet=True)
