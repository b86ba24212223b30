"""Photo-consent questions as typed in a chat, declared for the router (``core.router``).

A withdrawal comes first, as it also names a pupil and a use.
"""

from __future__ import annotations

from workflows.consent.lookups import consent_class, consent_lookup
from workflows.consent.withdrawals import consent_withdraw
from workflows.core.declaration import Handler, Route

WITHDRAWAL = Route.of(
    r"^(?P<name>.+?)(?:'s|’s|s'|’) (?:parents?|mum|mother|dad|father|carers?|"
    r"guardians?|family)(?: has| have)? (?:withdrawn?|withdrew|removed|taken back)"
    r"(?: their| her| his)? (?:photo )?consent (?:for|to|on) (?P<use>.+?)[.!]?$",
    consent_withdraw, example="Amelia Smith's mum withdrew consent for social media",
    words=("withdraw", "withdrew", "withdrawn", "removed", "parent", "mum", "dad", "carer"))


def _asked(pattern: str, handler: Handler) -> Route:
    """A read-only consent question, offered as the example when near."""
    return Route.of(pattern, handler, lookup=True,
                    example="can I put Amelia Smith on the website?",
                    words=("photo", "photos", "picture", "pictures", "consent", "website",
                           "newsletter", "newspaper", "twitter", "facebook", "instagram",
                           "social", "media", "video", "film", "class", "press", "photographer",
                           "allowed", "post", "pupil", "child"))


# Lookups: read-only, so they may be asked anywhere; all are audited.
LOOKUPS = (
    _asked(r"^(?:can|may|could) (?:i|we) (?:put|use|post|show|include|share|feature|"
           r"publish|film|photograph) (?P<name>.+) (?:on|in|for|to|into) (?P<use>.+?)\??$",
           consent_lookup),
    # “can Siobhan go in the newspaper?”, “is Mo allowed on Twitter?”
    _asked(r"^(?:can|may|could) (?!(?:i|we|you) )(?P<name>.+?) (?:go|be|appear|feature)"
           r"(?: shown| photographed| filmed| pictured| included)? (?:on|in|for) "
           r"(?P<use>.+?)\??$", consent_lookup),
    _asked(r"^is (?P<name>.+?) (?:allowed|ok|okay|able)(?: to (?:go|be|appear|feature))?"
           r" (?:on|in|for) (?P<use>.+?)\??$", consent_lookup),
    _asked(r"^who in (?P<cls>\S+) (?:can'?t|can’t|cannot|can not|mustn'?t|must not|"
           r"shouldn'?t)(?: go| be| appear| feature)? (?:on|in) (?P<use>.+?)\??$",
           consent_class),
    _asked(r"^class (?P<what>photo|photos|list|consent) (?:for |of )?(?P<cls>\S+)"
           r"(?: (?:for|on|in) (?P<use>.+?))?\??$", consent_class),
    _asked(r"^(?:photo )?consent (?P<name>.+?)(?: (?:for|on) (?P<use>[^?]+?))?\??$",
           consent_lookup),
)
ROUTES = (WITHDRAWAL, *LOOKUPS)
