"""Readers for each file type, and bad files skipped or flagged while everything else is indexed."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from index.build import build
from index.chunking import split_sentences
from index.documents import TITLE_CHARACTERS, Document, read_folder
from index.formats import (
    Unreadable,
    read_docx,
    read_html,
    read_markdown,
    read_pdf,
    read_text,
)
from qa.api import Engine

HTML = b"""<html><head><title>Lake Sevan page</title><style>p {color: red}</style>
<script>var hidden = "do not index";</script></head>
<body><h1>Lake Sevan</h1><p>Lake Sevan is the <b>largest</b> lake in Armenia.</p>
<p>It lies at 1,900&nbsp;metres.</p><noscript>enable scripts</noscript></body></html>"""


def make_pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def make_docx(paragraphs: list[str], title: str) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_html_keeps_visible_text_only():
    extracted = read_html(HTML)
    assert extracted.title == "Lake Sevan page"
    assert "Lake Sevan is the largest lake in Armenia." in extracted.text and "1,900 metres" in extracted.text
    assert "do not index" not in extracted.text and "color" not in extracted.text and "<" not in extracted.text


def test_pdf_pages_have_exact_ranges():
    extracted = read_pdf(make_pdf(["Page one is about Armenia.", "Page two says Lake Sevan is large."]))
    assert len(extracted.pages) == 2
    first, second = (extracted.text[s:e] for s, e in extracted.pages)
    assert "Page one" in first and "Lake Sevan" in second


def test_damaged_and_encrypted_pdfs_are_refused():
    with pytest.raises(Unreadable, match="damaged PDF"):
        read_pdf(b"%PDF-1.4 this is not really a pdf")
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(["secret"]))))
    writer.encrypt("password")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(Unreadable, match="encrypted"):
        read_pdf(buffer.getvalue())


@pytest.fixture
def mixed_folder(tmp_path, monkeypatch) -> Path:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "page.html").write_bytes(HTML)
    (docs / "report.pdf").write_bytes(make_pdf(["Armenia has many mountains.", "The Kura River is 1,364 kilometres long."]))
    (docs / "memo.docx").write_bytes(make_docx(["Memo about Yerevan.", "Yerevan is the capital of Armenia."], "Yerevan memo"))
    (docs / "latin.txt").write_bytes("Caf\xe9 notes: Gyumri is the second city of Armenia.".encode("cp1252"))
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02\x03")
    (docs / "empty.md").write_text("   \n")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (docs / "locked.txt").write_text("secret")
    (docs / "sub" / "loop").symlink_to(docs, target_is_directory=True)
    real_read_bytes = Path.read_bytes

    def read_bytes(path):
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return docs


def test_bad_files_are_skipped_with_reasons_and_the_rest_is_indexed(mixed_folder):
    documents, skipped, flagged = read_folder(mixed_folder)
    assert sorted(d.id for d in documents) == ["latin.txt", "memo.docx", "page.html", "report.pdf"]
    reasons = {s.id: s.reason for s in skipped}
    assert "binary" in reasons["binary.txt"] and "empty" in reasons["empty.md"]
    assert "damaged PDF" in reasons["broken.pdf"] and "Permission denied" in reasons["locked.txt"]
    assert [f.id for f in flagged] == ["latin.txt"] and "Windows-1252" in flagged[0].reason
    assert next(d for d in documents if d.id == "memo.docx").title == "Yerevan memo"
    assert "Café" in next(d for d in documents if d.id == "latin.txt").text


def test_pdf_citations_say_their_page(mixed_folder, tmp_path, embedder):
    summary = build(mixed_folder, tmp_path / "index", embedder=embedder)
    assert {s.id for s in summary.skipped} == {"binary.txt", "empty.md", "broken.pdf", "locked.txt"}
    assert "flagged latin.txt" in str(summary) and "skipped broken.pdf" in str(summary)
    engine = Engine(mixed_folder, tmp_path / "index", embedder=embedder)
    answer = engine.answer("How long is the Kura River?")
    citation = answer.citations[0]
    assert answer.found and citation.doc == "report.pdf" and citation.pages == [2]
    document = engine.store.document("report.pdf")
    assert document.text[citation.start : citation.end] == citation.quote
    assert engine.answer("What is the capital of Armenia?").citations[0].doc == "memo.docx"


def test_a_symlink_loop_does_not_hang(mixed_folder):
    assert os.path.islink(mixed_folder / "sub" / "loop")
    documents, _, _ = read_folder(mixed_folder)
    assert len(documents) == 4


def test_a_first_line_that_is_a_whole_paragraph_gives_a_short_title(tmp_path):
    line = " ".join(f"word{i}" for i in range(2000))
    (tmp_path / "long.txt").write_text(f"{line}\n\nThe rest.")
    ((document,), _, _) = read_folder(tmp_path)
    assert len(document.title) <= TITLE_CHARACTERS + 1 and document.title.endswith("…")
    assert line.startswith(document.title[:-1]) and line[len(document.title) - 1] == " "  # cut between words
    assert document.text.startswith(line)  # the text itself keeps the whole line


def test_a_pdf_without_text_is_skipped_with_a_hint(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with open(tmp_path / "scan.pdf", "wb") as out:
        writer.write(out)
    (tmp_path / "notes.txt").write_text("Some text.")
    _, skipped, _ = read_folder(tmp_path)
    assert [s.id for s in skipped] == ["scan.pdf"] and "scanned PDF has no text layer" in skipped[0].reason


def test_a_markdown_heading_gives_its_title_without_the_marks(tmp_path):
    (tmp_path / "kura.md").write_text("\n## Kura River\n\nThe Kura River flows into the Caspian Sea.\n")
    ((document,), _, _) = read_folder(tmp_path)
    assert document.title == "Kura River" and document.text.startswith("\n## Kura River")


@pytest.mark.parametrize("markdown, title", [
    ("[![Downloads](https://pepy.tech/badge/rich)](https://pepy.tech/project/rich)\n\n![Logo](logo.svg)\n\n"
     "Rich is a *Python* library for [rich text](https://rich.readthedocs.io).\n\n## Compatibility\n",
     "Rich is a Python library for rich text."),
    ("[![CII](https://b.org/badge)](https://b.org)\n\n|Branch|CI|\n|---|---|\n\n# GnuTLS -- Information for "
     "developers\n\nText.\n", "GnuTLS -- Information for developers"),
    ("# Thread-pool Controls [![Build Status](https://ci/badge.svg)](https://ci)\n\nText.\n", "Thread-pool Controls"),
    ('<h1 align="center">\n\n![urllib3](https://u/banner.svg)\n\n</h1>\n\nurllib3 is a client.\n', "urllib3"),
    ("Zstandard\n=========\n\nA fast compressor.\n", "Zstandard"),
])
def test_a_markdown_title_is_its_first_level_1_heading_or_first_words_without_markup(markdown, title):
    extracted = read_markdown(markdown.encode())
    assert extracted.title == title and extracted.text == markdown


def test_html_tables_keep_their_cells_apart_and_a_line_break_keeps_the_sentence():
    page = b"""<html><body><table><tr><th>Event</th><th>Date</th></tr>
    <tr><td>Tall ship regatta</td><td>July 16, 2023</td><td>North Basin</td></tr></table>
    <p>The Falcon X2 drone weighs 1.3 kg<br>and flies for 40 minutes.</p></body></html>"""
    text = read_html(page).text
    assert "Event | Date\n\nTall ship regatta | July 16, 2023 | North Basin" in text
    falcon = text.index("The Falcon")
    assert [text[s:e] for s, e in split_sentences(text, falcon)] == [
        "The Falcon X2 drone weighs 1.3 kg\nand flies for 40 minutes."]


def test_word_tables_are_read_in_their_place():
    import docx

    document = docx.Document()
    document.add_paragraph("Office locations")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("City", "Team", "Staff")):
        cell.text = text
    table.rows[1].cells[0].text = "Dundee"
    table.rows[1].cells[1].merge(table.rows[1].cells[2]).text = "Research lab"
    document.add_paragraph("Onboarding checklist")
    buffer = io.BytesIO()
    document.save(buffer)
    assert read_docx(buffer.getvalue()).text == (
        "Office locations\n\nCity | Team | Staff\n\nDundee | Research lab\n\nOnboarding checklist")


def test_pdf_running_headers_and_page_numbers_go_and_sentences_cross_pages():
    from fpdf import FPDF

    header = "Northwind Rail - Annual Report 2022 - CONFIDENTIAL"
    bodies = ["Northwind Rail carried 4.2 million passengers.", "The Polar Line runs from Tromvik to",
              "Kirkenes via eleven stations. It opened in 1998."]
    pdf = FPDF()
    pdf.set_title("Northwind Rail Annual Report 2022")
    pdf.set_font("Helvetica", size=12)
    for number, body in enumerate(bodies, 1):
        pdf.add_page()
        pdf.multi_cell(0, 10, f"{header}\n{body}\nPage {number} of 3")
    extracted = read_pdf(bytes(pdf.output()))
    assert extracted.title == "Northwind Rail Annual Report 2022"
    assert header not in extracted.text and "Page" not in extracted.text
    assert [extracted.text[s:e] for s, e in extracted.pages] == bodies
    document = Document("report.pdf", extracted.title, extracted.text, "0", extracted.pages)
    crossing = [(s, e) for s, e in split_sentences(extracted.text) if "Polar" in extracted.text[s:e]]
    assert [extracted.text[s:e] for s, e in crossing] == ["The Polar Line runs from Tromvik to\nKirkenes via eleven stations."]
    assert document.pages_of(*crossing[0]) == [2, 3]


def test_pdf_words_broken_across_lines_are_made_whole():
    pages = ["Northwind's invest-\nment in rail grew. Its self-\nreported figures (self-reported since 2020)",
             "are state-of-\nthe-art, Franco-\nPrussian in origin, and the invest-\nment is public."]
    extracted = read_pdf(make_pdf(pages))
    assert [extracted.text[s:e] for s, e in extracted.pages] == [
        "Northwind's investment in rail grew. Its self-reported figures (self-reported since 2020)",
        "are state-of-the-art, Franco-\nPrussian in origin, and the investment is public."]


def test_a_pdf_title_that_is_a_file_name_is_not_used():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Microsoft Word - report.docx")
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 10, "Quarterly figures\nSales rose.")
    assert read_pdf(bytes(pdf.output())).title is None


def test_a_damaged_pdf_is_reported_once_not_also_by_pypdf(caplog):
    with pytest.raises(Unreadable, match="damaged PDF"):
        read_pdf(b"%PDF-1.4 garbage")
    assert not [record for record in caplog.records if record.name.startswith("pypdf")]


@pytest.mark.parametrize("front, title", [
    ('---\ntitle: "Zephyr 4.2 Release Notes"\ndate: 2023-03-05\n---\n# Zephyr Database\n', "Zephyr 4.2 Release Notes"),
    ("---\ndate: 2023-03-05\n---\n\n# Zephyr Database\n", "Zephyr Database"),
])
def test_markdown_front_matter_gives_the_title_and_stays_in_the_text(front, title):
    extracted = read_markdown((front + "Version 4.2 was released on March 5, 2023.\n").encode())
    assert extracted.title == title and "date: 2023-03-05" in extracted.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_unicode_text_with_a_byte_order_mark_is_read(encoding):
    text = "Lake Sevan – 1,900 m\r\nÅland"
    data = text.encode(encoding)
    data = data if encoding != "utf-16-be" else b"\xfe\xff" + data
    assert read_text(data).text == "Lake Sevan – 1,900 m\nÅland"
