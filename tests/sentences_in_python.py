"""How many English sentences are still written in Python under workflows/ and bot/.

The design keeps wording in ``templates/``; this counts what is left, so a change can say how
many it moved and a test can keep a cleaned module clean. ``python -m tests.sentences_in_python``
prints the total and the files with the most; ``--all`` lists every file.

A sentence here is a string literal (or an f-string's text) that reads as prose: at least three
words of letters and a space between them. Docstrings, log lines and the exceptions that are
bugs (``raise KeyError("...")`` and the like, never shown to a user) are not wording.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("workflows", "bot")
_WORD = re.compile(r"[A-Za-z][a-z’']+")
# Raised for a programmer, not a person: never reaches a chat or a terminal as an answer.
_BUG_ERRORS = {"KeyError", "TypeError", "AssertionError", "RuntimeError", "NotImplementedError",
               "AttributeError", "IndexError"}
_LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


_PATTERN = re.compile(r"^\^|\(\?|\\[bdsw]|^(?:SELECT|PRAGMA|INSERT|UPDATE|DELETE) ")


def _prose(text: str) -> bool:
    """Words a person reads; not a regular expression, SQL or a template's own source."""
    return (" " in text.strip() and len(_WORD.findall(text)) >= 3 and "{{" not in text
            and not _PATTERN.search(text))


def _skipped(tree: ast.AST) -> set[int]:
    """The ids of string nodes that are docstrings, log lines or a programmer's errors."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            logger = isinstance(func, ast.Attribute) and name in _LOG_CALLS and (
                "log" in ast.unparse(func.value).lower())
            if logger or name in _BUG_ERRORS:
                skip.update(id(n) for n in ast.walk(node))
    return skip


def sentences(path: Path) -> list[str]:
    """The prose string literals of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _skipped(tree)
    found: list[str] = []
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else " x "
                           for v in node.values)
            inside_fstring.update(id(v) for v in node.values)
            if _prose(text):
                found.append(text)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in inside_fstring and _prose(node.value)):
            found.append(node.value)
    return found


def count(folders: tuple[str, ...] = FOLDERS) -> Counter[str]:
    """Sentences per file (paths relative to the checkout), migrations left out."""
    counts: Counter[str] = Counter()
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # history: a migration is never reworded
            if n := len(sentences(path)):
                counts[str(path.relative_to(ROOT))] = n
    return counts


def main(argv: list[str]) -> None:
    counts = count()
    for folder in FOLDERS:
        print(f"{folder}/: {sum(n for f, n in counts.items() if f.startswith(folder + '/'))}")
    print(f"total: {sum(counts.values())} in {len(counts)} files")
    for file, n in counts.most_common(None if "--all" in argv else 25):
        print(f"{n:5}  {file}")


if __name__ == "__main__":
    main(sys.argv[1:])
