"""Chunking: exact offsets, sentence cuts, overlap, and the embedding model's length limit."""

from __future__ import annotations

from index.config import DEFAULT_MODEL
from index.chunking import Chunker, count_tokens, split_sentences
from index.documents import read_folder
from index.embedding import resolve_model
from tests.conftest import SEEDS

TEXT = (
    "Armenia froze its participation on Feb. 23. Mr. Smith disagreed!\n\n"
    "A second paragraph follows here. It has two sentences.\n"
    "- a list item\n"
    "Hard-wrapped prose continues on\nthe next line without a break."
)


def test_sentences_are_exact_and_respect_abbreviations():
    spans = split_sentences(TEXT)
    sentences = [TEXT[s:e] for s, e in spans]
    assert sentences == [
        "Armenia froze its participation on Feb. 23.",
        "Mr. Smith disagreed!",
        "A second paragraph follows here.",
        "It has two sentences.",
        "- a list item",
        "Hard-wrapped prose continues on\nthe next line without a break.",
    ]


def test_numbered_clauses_with_hanging_indents_stay_whole_sentences():
    text = ("   2. Grant of Copyright License. Subject to the terms and conditions of\n"
            "      this License, each Contributor hereby grants to You a license.\n\n"
            '1.6. "Executable Form"\n    means any form of the work other than Source Code Form.\n\n'
            "- first item\n- second item\n  wrapped under it\n1. Step one\nNot indented: a new line.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "2. Grant of Copyright License.",
        "Subject to the terms and conditions of\n      this License, each Contributor hereby grants to You a license.",
        '1.6. "Executable Form"\n    means any form of the work other than Source Code Form.',
        "- first item",
        "- second item\n  wrapped under it",
        "1. Step one",
        "Not indented: a new line.",
    ]


def test_a_fenced_code_block_is_one_sentence_and_an_unclosed_fence_is_prose():
    text = ("To build it from source:\n\n```bash\n# Install Rust first.\ncurl https://sh.rustup.rs -sSf | sh\n\n"
            "git clone https://example.org/routerctl. Then build.\n```\nIt takes a minute.\n\n"
            "A stray ``` fence. More prose.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "To build it from source:",
        ("```bash\n# Install Rust first.\ncurl https://sh.rustup.rs -sSf | sh\n\ngit clone "
         "https://example.org/routerctl. Then build.\n```"),
        "It takes a minute.",
        "A stray ``` fence.",
        "More prose.",
    ]


class _Words:
    """A stand-in tokenizer: one token per word, each text counted on its own (no document tokens to slice)."""

    sliceable = False

    @staticmethod
    def count(texts):
        return [len(text.split()) for text in texts]


def test_chunk_offsets_round_trip_and_cover_every_sentence():
    text = " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(300))
    chunker = Chunker(max_tokens=60, overlap_tokens=20, model_limit=1000, wordpieces=_Words())
    chunks = chunker.chunk("doc.txt", text)
    assert len(chunks) > 5
    covered = set()
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert count_tokens(chunk.text) <= 60
        covered.update(range(chunk.start, chunk.end))
    for start, end in split_sentences(text):
        assert set(range(start, end)) <= covered
    # consecutive chunks overlap by whole sentences, and always move forward
    for before, after in zip(chunks, chunks[1:]):
        assert before.start < after.start <= before.end + 1


def test_model_limit_is_respected_even_for_one_huge_sentence():
    text = "word " * 5000 + "end."
    chunker = Chunker(max_tokens=10_000, overlap_tokens=0, model_limit=100, wordpieces=_Words())
    chunks = chunker.chunk("long.txt", text)
    assert all(len(chunk.text.split()) <= 100 for chunk in chunks)
    assert all(chunk.text == text[chunk.start : chunk.end] for chunk in chunks)
    assert "".join(text[c.start : c.end] for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_no_seed_chunk_exceeds_the_real_model_limit(embedder):
    documents, _, _ = read_folder(SEEDS)
    chunker = Chunker(200, 80, embedder.max_tokens, embedder.wordpieces)
    long_text = documents[0].text * 20  # many windows
    chunks = chunker.chunk("x", long_text)
    counts = embedder.count_tokens([c.text for c in chunks])
    assert max(counts) <= embedder.max_tokens == embedder.backend.max_seq_length - 2
    assert all(c.text == long_text[c.start : c.end] for c in chunks)


def test_a_run_on_text_without_punctuation_fits_the_real_model(embedder):
    text = " ".join(f"pneumonoultramicroscopic{i}" for i in range(400))  # many word pieces per word
    chunks = Chunker(200, 0, embedder.max_tokens, embedder.wordpieces).chunk("x", text)
    assert max(embedder.count_tokens([c.text for c in chunks])) <= embedder.max_tokens


def test_a_sentence_too_long_for_a_window_is_cut_between_words(embedder):
    words = ("Kestrel", "pneumonoultramicroscopic", "Zorblatification", "river")  # several tokens each
    text = " ".join(f"{words[i % 4]}{i}" for i in range(1500)) + "."
    chunks = Chunker(200, 40, embedder.max_tokens, embedder.wordpieces).chunk("x", text)
    assert len(chunks) > 10 and max(embedder.count_tokens([c.text for c in chunks])) <= embedder.max_tokens
    for chunk in chunks:
        assert chunk.start == 0 or text[chunk.start - 1] == " ", chunk.text[:30]
        assert chunk.end == len(text) or text[chunk.end] == " ", chunk.text[-30:]


def test_token_counts_are_the_same_in_blocks_and_as_transformers_counts(embedder, monkeypatch):
    from transformers import AutoTokenizer

    texts = ["Armenia froze its participation.", "", "Nikol Pashinyan said so on Feb. 23 in Yerevan.", "CSTO"] * 3
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
    whole = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    monkeypatch.setattr("index.wordpieces.COUNT_BLOCK", 5)
    assert embedder.count_tokens(texts) == whole and len(whole) == 12


TRICKY = [
    " ".join(f"pneumonoultramicroscopic{i}" for i in range(400)),  # cut inside words
    "東京は日本の首都です。" * 200 + " Café naïve résumé, don't; U.S.-made e-mail. " * 100,
    "http://example.com/a?b=c&d=e " * 300,
]


def test_chunk_tokens_and_sentences_are_those_of_the_chunk_alone(embedder):
    documents, _, _ = read_folder(SEEDS)
    chunker = Chunker(200, 80, embedder.max_tokens, embedder.wordpieces)
    sliced = 0
    for text in [documents[0].text * 5, *TRICKY]:
        for passage in chunker.passages("x", text):
            chunk = passage.chunk
            alone = embedder.wordpieces.tokens(chunk.text)
            assert len(alone.ids) <= embedder.max_tokens
            if passage.tokens is not None:
                sliced += 1
                assert passage.tokens.ids.tolist() == alone.ids.tolist()
                assert passage.tokens.offsets.tolist() == alone.offsets.tolist()
            assert passage.sentences.tolist() == [[s + chunk.start, e + chunk.start] for s, e in split_sentences(chunk.text)]
    assert sliced > 20


def test_a_cut_inside_a_word_gives_no_tokens(embedder):
    text = "pneumonoultramicroscopic results, again"  # the first word is nine word pieces
    tokens = embedder.wordpieces.tokens(text)
    assert tokens.window(0, 24).ids.tolist() == tokens.ids[:9].tolist()
    assert tokens.window(25, 39).offsets.tolist() == embedder.wordpieces.tokens(text[25:39]).offsets.tolist()
    assert tokens.window(3, 33) is None  # starts between two pieces of the first word
    assert tokens.window(0, 8) is None  # ends between two of them
