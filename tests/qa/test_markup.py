"""Code in answers without the marks around it: fences, backticks, a console's prompts and output."""

from __future__ import annotations

import pytest

from qa.markup import Code, is_code, is_markup, tidied


@pytest.mark.parametrize("text, code", [
    ("```\npython -m rich\n```", "python -m rich"),
    ("```console\n$ pip install x\n$ x --check\n```", "$ pip install x\n$ x --check"),
    ("    pip install routerctl", "pip install routerctl"),
    ("``reset_cached_controller()``", "reset_cached_controller()"),
    ("Call `a` and then `b`.", "Call `a` and then `b`."),
    ("```\n```", "```\n```"),  # nothing but fences: kept as it is
    ("apt-get install -y texinfo\n```", "apt-get install -y texinfo"),  # a span that runs into the closing fence
    ("zstd -D dictionaryName FILE`", "zstd -D dictionaryName FILE"),  # a span that cuts inline code
    ("`zstd --train", "zstd --train"),
    ("`", "`"),
    ("```bash\n# Install with:\ncurl https://sh.rustup.rs | sh\n```", "curl https://sh.rustup.rs | sh"),  # comment
    ("## Loading\n\nrouterctl.load()", "routerctl.load()"),  # a heading over the code
    ("# Install with:", "# Install with:"),  # nothing else left: kept
])
def test_code_is_answered_without_the_marks_around_it(text, code):
    start, end = tidied(text, 0, len(text))
    assert text[start:end] == code


@pytest.mark.parametrize("text, commands", [
    ("$ pytest\n===== test session starts =====\n2 passed", "pytest"),  # the output is no part of it
    ("$ pip install routerctl\n$ routerctl --check\nall good", "$ pip install routerctl\n$ routerctl --check"),
    ("$ docker run \\\n    -p 80:80 router\nstarted", "docker run \\\n    -p 80:80 router"),
    (">>> import routerctl\n>>> routerctl.reset()\nTrue", ">>> import routerctl\n>>> routerctl.reset()"),
    ("pip install routerctl", "pip install routerctl"),
])
def test_a_console_transcript_answers_with_its_commands(text, commands):
    start, end = tidied(text, 0, len(text))
    assert text[start:end] == commands


GUIDE = ("Install it.\n\n```shell\n$ pip install 'routerctl[cli]'  # the command line client is optional\n```\n\n"
         "Setup\n~~~~~\n\nThen load a profile:\n\n```python\nprofile = routerctl.load(\"home\")\n```\n")


@pytest.mark.parametrize("part, holds", [
    ("pip install", True), ("shell", True), ("Install it", False),
    ("Setup", False),  # a reST underline of tildes is no fence
    ("routerctl.load", True), ("Then load", False),
])
def test_code_holds_what_is_inside_fences_or_on_a_command_line(part, holds):
    assert Code.of(GUIDE).holds(GUIDE.index(part)) is holds


def test_an_unclosed_fence_holds_no_code():
    text = "To install quux, run:\n```\npip install quux\n\n## History\n\nQuux was first released on March 3, 2021."
    assert not Code.of(text).holds(text.index("March 3"))
    assert Code.of(text).whole_lines(text.index("March"), text.index("2021") + 4) == (text.index("March"),
                                                                                       text.index("2021") + 4)


def test_a_comment_sign_inside_quotes_is_no_comment():
    text = "```\ngrep -rn ' # TODO' src/\n```"
    start = text.index("grep")
    first, last = Code.of(text).whole_lines(start, start + 4)
    assert text[first:last] == "grep -rn ' # TODO' src/"


@pytest.mark.parametrize("text, markup", [
    ("```yaml\n```", True), ("```\n\n\n```", True), ("###", True), ("python", False), ("```\nmake\n```", False),
])
def test_markup_alone_holds_nothing_but_marks(text, markup):
    assert is_markup(text, 0, len(text)) is markup


@pytest.mark.parametrize("part, grown", [
    ("pip", "$ pip install 'routerctl[cli]'"),  # the whole command, without its comment
    ("load(", 'profile = routerctl.load("home")'),
    ("Install", "Install"),  # prose stays as it is
])
def test_a_span_in_code_grows_to_whole_lines(part, grown):
    start = GUIDE.index(part)
    first, last = Code.of(GUIDE).whole_lines(start, start + len(part))
    assert GUIDE[first:last] == grown


@pytest.mark.parametrize("text, code", [
    ("```bash\nmake check\n```", True), ("$ make check", True), ("    make check\n    make install", True),
    ("```\n```", False), ("Run make check.", False), ("    Indented first line,\nthen prose.", False),
])
def test_code_is_a_fenced_block_a_transcript_or_indented_lines(text, code):
    assert is_code(text) is code


@pytest.mark.parametrize("text, part, answer", [
    ("Please post questions in the [issue tracker](https://example.org/issues) first.",
     "post questions in the [issue tracker", "post questions in the [issue tracker](https://example.org/issues)"),
    ("Report bugs at <https://example.org/issues>.", "<https://example.org/issues>", "https://example.org/issues"),
    ("Pick one of [a] or [b].", "one of [a", "one of [a"),  # brackets, not a link: as it is
    ("To upgrade, use `pip install -U routerctl` now.", "use `pip install", "use `pip install -U routerctl`"),
    ("Then `routerctl reset --all` it.", "`routerctl reset", "routerctl reset --all"),  # all code: without marks
])
def test_a_span_that_cuts_a_link_or_inline_code_takes_all_of_it_and_an_autolink_loses_its_brackets(text, part, answer):
    start = text.index(part)
    first, last = tidied(text, start, start + len(part))
    assert text[first:last] == answer


def test_only_a_comment_that_ends_the_last_line_is_left_out():
    text = "```\nrouterctl init  # once\nrouterctl start  # then\n```"
    start = text.index("init")
    first, last = Code.of(text).whole_lines(start, text.index("start") + 5)
    assert text[first:last] == "routerctl init  # once\nrouterctl start"
