"""Photo-consent questions as typed in a chat, declared for the router (``core.router``).

A withdrawal comes first, as it also names a pupil and a use.
"""

from __future__ import annotations

from workflows.consent.lookups import consent_class, consent_lookup
from workflows.consent.withdrawals import consent_withdraw
from workflows.core.declaration import Route

WITHDRAWAL = Route.of(
    r"^(?P<name>.+?)(?:'s|’s|s'|’) (?:parents?|mum|mother|dad|father|carers?|"
    r"guardians?|family)(?: has| have)? (?:withdrawn?|withdrew|removed|taken back)"
    r"(?: their| her| his)? (?:photo )?consent (?:for|to|on) (?P<use>.+?)[.!]?$",
    consent_withdraw)
# Lookups: read-only, so they may be asked anywhere; all are audited.
LOOKUPS = (
    Route.of(r"^(?:can|may|could) (?:i|we) (?:put|use|post|show|include|share|feature|"
             r"publish|film|photograph) (?P<name>.+) (?:on|in|for|to|into) (?P<use>.+?)\??$",
             consent_lookup, lookup=True),
    Route.of(r"^who in (?P<cls>\S+) (?:can'?t|can’t|cannot|can not|mustn'?t|must not|"
             r"shouldn'?t)(?: go| be| appear| feature)? (?:on|in) (?P<use>.+?)\??$",
             consent_class, lookup=True),
    Route.of(r"^class (?P<what>photo|photos|list|consent) (?:for |of )?(?P<cls>\S+)"
             r"(?: (?:for|on|in) (?P<use>.+?))?\??$", consent_class, lookup=True),
    Route.of(r"^(?:photo )?consent (?P<name>.+?)(?: (?:for|on) (?P<use>[^?]+?))?\??$",
             consent_lookup, lookup=True),
)
ROUTES = (WITHDRAWAL, *LOOKUPS)
