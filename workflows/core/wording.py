"""Rendering the words: messages and letters live in ``templates/``, not in Python strings.

Plain-text output; each adapter escapes for its own target. HTML templates autoescape.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from workflows.core import markdown
from workflows.core.spelled import describe_date, describe_datetime, describe_typed


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("templates", ""),
        autoescape=select_autoescape(["html", "htm", "html.j2"]),
        undefined=StrictUndefined,  # a missing value is a bug, never a blank in a letter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship inside the package and never change under a running bot; checking
        # each file's time on every render was a tenth of a consent class answer.
        auto_reload=False,
    )
    env.filters["day"] = lambda d: describe_date(d) if isinstance(d, date) else ""
    env.filters["moment"] = lambda d: describe_datetime(d) if isinstance(d, datetime) else ""
    # What staff typed ("found yesterday"): no "at 00:00" for a time nobody gave.
    env.filters["typed"] = lambda d: describe_typed(d) if isinstance(d, datetime) else ""
    # Markdown documents (the privacy notice's software list): user text stays literal.
    env.filters["md"] = markdown.literal
    return env


def render(name: str, /, **values: Any) -> str:
    # Positional only, so that a template may be given a fact called ``name``.
    return environment().get_template(name).render(**values).strip()
