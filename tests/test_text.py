"""The one fold every comparison of typed text goes through (workflows/core/text.py)."""

from __future__ import annotations

import pytest

from workflows.core.text import fold


@pytest.mark.parametrize(("typed", "options", "folded"), [
    ("  Zoë   O'Brien ", {"words": True}, "zoe obrien"),  # a pupil's name
    ("St. Mary’s C of E / Junior", {"words": True}, "st marys c of e junior"),  # a school
    ("TT Rock-Stars", {"words": True}, "tt rockstars"),  # a product, before its spaces go
    ("Approved_With_Conditions", {"apart": "_"}, "approved with conditions"),  # a cell
    (" Consent - Displays ", {}, "consent - displays"),  # a column header keeps its marks
    ("Don’t know.", {"strip": " .!"}, "don't know"),  # a phone's apostrophe, a full stop
    ("3rd March, 2026", {"apart": ","}, "3rd march 2026"),  # a date
])
def test_one_fold_for_names_headers_answers_and_dates(typed: str, options: dict[str, object],
                                                      folded: str) -> None:
    assert fold(typed, **options) == folded  # type: ignore[arg-type]


def test_the_consent_fold_is_unchanged_since_withdrawals_hash_it() -> None:
    from workflows.consent.matching import fold as name_fold

    assert name_fold("Zoë O'Brien-Smith, jr.") == "zoe obriensmith jr"
