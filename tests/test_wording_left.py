"""Wording lives in templates/: the modules already worded by templates stay so, and the
counter that says how much English is left in Python (tests/sentences_in_python.py) counts
what it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sentences_in_python import ROOT, sentences

WORDED_BY_TEMPLATES = ("workflows/core/imports.py", "workflows/core/chat.py",
                       "bot/terminal/render.py")


@pytest.mark.parametrize("module", WORDED_BY_TEMPLATES)
def test_a_module_worded_by_templates_has_no_sentence_of_its_own(module: str) -> None:
    assert sentences(ROOT / module) == []


def test_the_counter_finds_prose_but_not_docstrings_logs_or_patterns(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text('''"""A docstring is not wording shown to anyone."""
import logging, re
log = logging.getLogger(__name__)
PATTERN = re.compile(r"^(?:help|what can you do)$")


def answer(n: int) -> str:
    """Nor is this one."""
    log.warning("a log line is for the operator")
    if n < 0:
        raise KeyError("a bug is for the programmer")
    return f"You have {n} open cases left." if n else "Nothing is open."
''', encoding="utf-8")
    assert sentences(module) == ["You have  x  open cases left.", "Nothing is open."]
