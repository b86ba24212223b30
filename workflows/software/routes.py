"""Questions about the software register, answered without starting a request.

Declared on ``SOFTWARE.routes`` and matched by ``core.router`` before photo consent: “can I
use IXL?” names a product, where “can we use Amelia's photo…” is about consent.
"""

from __future__ import annotations

import re

from workflows.audit import service as audit
from workflows.consent import routes as consent
from workflows.core.context import Context
from workflows.core.declaration import Handler, Route
from workflows.core.ui import Reply, Table, Text
from workflows.core.wording import render
from workflows.software import answers as software
from workflows.software.names import register as register_of


def answer(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    """“Is IXL approved?”, “can I use IXL?”, “software IXL”: answered from the register."""
    asked = match.group("product")
    if asked.lower() in software.THIS:  # “is it approved?”: what this person last asked for
        asked = software.last_asked(ctx) or ""
        if not asked:
            return [Text(render("software/lookup.txt.j2", reason="which_app"), "warning")]
    # “Can I use IXL for homework?”: the product is the part before what it is for.
    shorter = re.split(r"\s+(?:for|with|in|on|at|to)\s+", asked, maxsplit=1)[0]
    known = next((q for q in dict.fromkeys((asked, shorter)) if software.known(ctx, q)), None)
    if known is None and match.group(0).lower().startswith(("can ", "may ", "could ")):
        # Not a product: “can we use Amelia's photo in the newsletter?” is about consent.
        for route in consent.LOOKUPS:
            if consent_match := route.pattern.match(match.group(0)):
                return route.handler(ctx, channel_key, consent_match)
    return [Text(software.answer_text(ctx, software.look_up(ctx, known or shorter)))]


def register(ctx: Context, channel_key: str, match: re.Match[str]) -> list[Reply]:
    """The whole register: names and decisions only, so any member of staff may read it."""
    products = register_of(ctx.session, ctx.school_id)
    audit.record(ctx, "software.register_viewed", "software", None, None)
    return [Table(
        title="Software register",
        columns=("Product", "Status", "Review by"),
        rows=tuple((p.name, software.status_text(p, ctx.today),
                    p.review_on.strftime("%d %b %Y") if p.review_on else "")
                   for p in products),
        empty=render("software/lookup.txt.j2", reason="register_empty"),
    )]


def _asked(pattern: str, handler: Handler) -> Route:
    """A read-only question about the register, offered as “can I use IXL?” when near."""
    return Route.of(pattern, handler, lookup=True, example="can I use IXL?",
                    words=("software", "app", "apps", "approved", "allowed", "register", "use",
                           "using", "platform", "tool", "program", "safe"))


ROUTES = (
    _asked(r"^(?:software )?(?:register|list)$|^software$", register),
    _asked(r"^is (?P<product>.+?) (?:approved|allowed|ok|okay|safe|on the register|"
           r"in the register)\??$", answer),
    _asked(r"^(?:can|may|could) (?:i|we) use (?P<product>.+?)\??$", answer),
    # “I'd like to start using ClassDojo with Y1-Y6”, “we want to use Seesaw”
    _asked(r"^(?:i|we)(?:'d| would)? (?:like|want|wants|need|plan|hope) to (?:start )?"
           r"(?:use|using|try|trial|sign up (?:to|for)) (?P<product>.+?)[.!?]?$", answer),
    _asked(r"^(?:can|may|could) (?:i|we) (?:start using|try|trial|sign up (?:to|for)) "
           r"(?P<product>.+?)\??$", answer),
    _asked(r"^software (?!request\b|approval\b)(?P<product>.+?)\??$", answer),
)
