"""Code in answers without the marks around it: fences, backticks, a console's prompts and output."""

from __future__ import annotations

import pytest

from qa.markup import without_code_marks


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
])
def test_code_is_answered_without_the_marks_around_it(text, code):
    start, end = without_code_marks(text, 0, len(text))
    assert text[start:end] == code


@pytest.mark.parametrize("text, commands", [
    ("$ pytest\n===== test session starts =====\n2 passed", "pytest"),  # the output is no part of it
    ("$ pip install routerctl\n$ routerctl --check\nall good", "$ pip install routerctl\n$ routerctl --check"),
    ("$ docker run \\\n    -p 80:80 router\nstarted", "docker run \\\n    -p 80:80 router"),
    (">>> import routerctl\n>>> routerctl.reset()\nTrue", ">>> import routerctl\n>>> routerctl.reset()"),
    ("pip install routerctl", "pip install routerctl"),
])
def test_a_console_transcript_answers_with_its_commands(text, commands):
    start, end = without_code_marks(text, 0, len(text))
    assert text[start:end] == commands
