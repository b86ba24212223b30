"""SAR deadlines with real dates (DOMAIN.md section 1); every weekday here was checked by hand."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.deadlines import (
    REGIONS,
    DeadlineError,
    Pause,
    UnknownRegion,
    bank_holiday_name,
    describe,
    is_working_day,
    next_working_day,
    sar_deadline,
)

# --- calendar helpers -------------------------------------------------------------------------


def test_describe_has_no_leading_zero() -> None:
    assert describe(date(2024, 12, 27)) == "Friday 27 December 2024"
    assert describe(date(2025, 2, 3)) == "Monday 3 February 2025"


def test_subdiv_is_what_keeps_easter_monday_and_august() -> None:
    # The trap the module exists to avoid: without subdiv these are not holidays at all.
    bare = holidays.country_holidays("GB")
    assert date(2025, 4, 21) not in bare
    assert date(2025, 8, 25) not in bare
    assert bank_holiday_name(date(2025, 4, 21), "ENG") == "Easter Monday"
    assert bank_holiday_name(date(2025, 8, 25), "ENG") is not None
    assert bank_holiday_name(date(2025, 8, 25), "WLS") is not None


def test_holidays_for_far_years_are_available() -> None:
    assert bank_holiday_name(date(2040, 12, 25), "ENG") == "Christmas Day"
    assert bank_holiday_name(date(2001, 12, 25), "NIR") == "Christmas Day"


def test_working_days() -> None:
    assert is_working_day(date(2024, 12, 27), "ENG")
    assert not is_working_day(date(2024, 12, 25), "ENG")
    assert not is_working_day(date(2025, 2, 1), "ENG")  # Saturday
    assert next_working_day(date(2024, 12, 25), "ENG") == date(2024, 12, 27)
    assert next_working_day(date(2024, 12, 27), "ENG") == date(2024, 12, 27)


def test_unknown_region_lists_valid_ones() -> None:
    with pytest.raises(UnknownRegion) as caught:
        is_working_day(date(2025, 1, 6), "GB")
    for region in REGIONS:
        assert region in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_region_code_is_forgiving_about_case() -> None:
    assert bank_holiday_name(date(2025, 8, 4), "sct") == bank_holiday_name(date(2025, 8, 4), "SCT")


# --- the one-month rule: worked examples from DOMAIN.md ----------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2025, 9, 3), date(2025, 10, 3)),  # 3 October 2025 is a Friday
        (date(2026, 9, 3), date(2026, 10, 5)),  # 3 October 2026 is a Saturday -> Monday
        (date(2025, 3, 31), date(2025, 4, 30)),  # no 31 April
        (date(2024, 1, 31), date(2024, 2, 29)),  # leap year clamp
        (date(2023, 1, 31), date(2023, 2, 28)),  # non-leap clamp (a Tuesday)
        (date(2024, 11, 25), date(2024, 12, 27)),  # Christmas Day and Boxing Day
        (date(2025, 1, 1), date(2025, 2, 3)),  # 1 February 2025 is a Saturday
    ],
)
def test_one_month_examples(received: date, due: date) -> None:
    deadline = sar_deadline(received)
    assert deadline.due == due
    assert deadline.rule == "one calendar month"
    assert deadline.day_one == received
    assert deadline.paused_days == 0
    assert deadline.extension_notice_due == due


def test_weekday_facts_used_above() -> None:
    assert date(2025, 10, 3).strftime("%A") == "Friday"
    assert date(2026, 10, 3).strftime("%A") == "Saturday"
    assert date(2024, 4, 30).strftime("%A") == "Tuesday"
    assert date(2025, 2, 1).strftime("%A") == "Saturday"


def test_christmas_explanation() -> None:
    deadline = sar_deadline(date(2024, 11, 25))
    assert deadline.unrolled == date(2024, 12, 25)
    assert deadline.explanation == (
        "Day one is Monday 25 November 2024, the day the request was received.",
        "One calendar month from day one is Wednesday 25 December 2024.",
        "Wednesday 25 December 2024 is Christmas Day and Thursday 26 December 2024 is Boxing "
        "Day, so the deadline moves to the next working day: Friday 27 December 2024.",
    )


def test_weekend_and_clamp_explanations() -> None:
    weekend = " ".join(sar_deadline(date(2025, 1, 1)).explanation)
    assert "1 February 2025 is a Saturday" in weekend
    assert "2 February 2025 is a Sunday" in weekend
    assert "next working day: Monday 3 February 2025" in weekend

    clamp = " ".join(sar_deadline(date(2024, 1, 31)).explanation)
    assert "31 January has no match in February, so the last day of February is used" in clamp
    assert "Thursday 29 February 2024 is a working day" in clamp


def test_request_received_on_a_weekend_still_counts_from_that_day() -> None:
    deadline = sar_deadline(date(2025, 3, 1))  # a Saturday
    assert deadline.day_one == date(2025, 3, 1)
    assert deadline.due == date(2025, 4, 1)
    assert "it counts even though it is not a working day" in deadline.explanation[0]


# --- bank holidays that need subdiv, and regional differences ----------------------------------


def test_easter_monday_england() -> None:
    deadline = sar_deadline(date(2025, 3, 21))
    assert deadline.unrolled == date(2025, 4, 21)
    assert deadline.due == date(2025, 4, 22)
    assert "Monday 21 April 2025 is Easter Monday" in deadline.explanation[-1]


def test_august_bank_holiday_england() -> None:
    assert sar_deadline(date(2025, 7, 25)).due == date(2025, 8, 26)
    assert sar_deadline(date(2025, 7, 25), region="WLS").due == date(2025, 8, 26)


def test_scotland_differs() -> None:
    # Scotland: 2 January is a bank holiday, and its summer bank holiday is the first Monday in
    # August, not the last.
    assert sar_deadline(date(2025, 12, 2), region="ENG").due == date(2026, 1, 2)
    assert sar_deadline(date(2025, 12, 2), region="WLS").due == date(2026, 1, 2)
    assert sar_deadline(date(2025, 12, 2), region="SCT").due == date(2026, 1, 5)
    assert sar_deadline(date(2025, 7, 4), region="ENG").due == date(2025, 8, 4)
    assert sar_deadline(date(2025, 7, 4), region="SCT").due == date(2025, 8, 5)
    assert sar_deadline(date(2025, 7, 25), region="SCT").due == date(2025, 8, 25)
    assert sar_deadline(date(2025, 3, 21), region="SCT").due == date(2025, 4, 21)


def test_northern_ireland_st_patricks_day() -> None:
    assert sar_deadline(date(2025, 2, 17), region="NIR").due == date(2025, 3, 18)
    assert sar_deadline(date(2025, 2, 17), region="ENG").due == date(2025, 3, 17)


def test_unknown_region_refused() -> None:
    with pytest.raises(UnknownRegion):
        sar_deadline(date(2025, 1, 6), region="Kent")


# --- extension ---------------------------------------------------------------------------------


def test_extension_is_three_months_from_day_one() -> None:
    deadline = sar_deadline(date(2024, 1, 31), extended=True)
    assert deadline.due == date(2024, 4, 30)  # a Tuesday
    assert deadline.rule == "three months (extended)"
    assert deadline.extension_notice_due == date(2024, 2, 29)
    text = " ".join(deadline.explanation)
    assert "three months from day one: Tuesday 30 April 2024" in text
    assert "31 January has no match in April, so the last day of April is used" in text
    assert "must be told about the extension, with the reasons, by Thursday 29 February 2024" in (
        text
    )


def test_extension_rolls_and_notice_rolls() -> None:
    # 1 Nov 2025 is a Saturday: one month -> Mon 1 Dec 2025 is a working day; three months ->
    # Sun 1 Feb 2026 -> Mon 2 Feb 2026.
    deadline = sar_deadline(date(2025, 11, 1), extended=True)
    assert deadline.due == date(2026, 2, 2)
    assert deadline.extension_notice_due == date(2025, 12, 1)
    # 25 Sep 2024 -> notice 25 Oct 2024 (Fri); extended 25 Dec 2024 -> Fri 27 Dec 2024.
    assert sar_deadline(date(2024, 9, 25), extended=True).due == date(2024, 12, 27)


def test_extension_notice_moves_with_pauses() -> None:
    deadline = sar_deadline(
        date(2025, 9, 3), pauses=[Pause(date(2025, 9, 10), date(2025, 9, 14))], extended=True
    )
    assert deadline.due == date(2025, 12, 8)  # 3 Dec + 5 = 8 Dec 2025, a Monday
    assert deadline.extension_notice_due == date(2025, 10, 8)


# --- clarification pauses ----------------------------------------------------------------------


def test_pause_worked_by_hand() -> None:
    # Asked 10 Sep, answered 14 Sep: 10, 11, 12, 13, 14 = 5 days. 3 Oct 2025 + 5 = Wed 8 Oct.
    deadline = sar_deadline(date(2025, 9, 3), pauses=[Pause(date(2025, 9, 10), date(2025, 9, 14))])
    assert deadline.paused_days == 5
    assert deadline.unrolled == date(2025, 10, 8)
    assert deadline.due == date(2025, 10, 8)
    assert deadline.extension_notice_due == date(2025, 10, 8)
    text = " ".join(deadline.explanation)
    assert "One calendar month from day one is Friday 3 October 2025." in text
    assert (
        "The clock was paused from Wednesday 10 September 2025, when the school asked for "
        "clarification, to Sunday 14 September 2025, when the answer arrived: those 5 days, "
        "both included, do not count." in text
    )
    assert "Adding the 5 paused days to Friday 3 October 2025 gives Wednesday 8 October 2025." in (
        text
    )
    assert "Wednesday 8 October 2025 is a working day, so that is the deadline." in text


def test_pause_added_before_the_weekend_roll() -> None:
    # 3 Oct 2025 (Fri) + 1 paused day = Sat 4 Oct -> Mon 6 Oct. Rolling first and then adding
    # would wrongly give Mon 6 Oct + 1 = Tue 7 Oct.
    deadline = sar_deadline(date(2025, 9, 3), pauses=[Pause(date(2025, 9, 10), date(2025, 9, 10))])
    assert deadline.paused_days == 1
    assert deadline.unrolled == date(2025, 10, 4)
    assert deadline.due == date(2025, 10, 6)
    assert "that day does not count" in " ".join(deadline.explanation)


def test_pause_added_after_the_month_end_clamp() -> None:
    # 31 Jan 2024 -> 29 Feb 2024 (clamped), + 2 paused days = Sat 2 Mar -> Mon 4 Mar 2024.
    deadline = sar_deadline(date(2024, 1, 31), pauses=[Pause(date(2024, 2, 5), date(2024, 2, 6))])
    assert deadline.unrolled == date(2024, 3, 2)
    assert deadline.due == date(2024, 3, 4)


def test_overlapping_pauses_counted_once() -> None:
    # 10-14 Sep and 12-16 Sep cover 10..16 Sep: 7 days, not 10. 3 Oct + 7 = Fri 10 Oct 2025.
    pauses = [
        Pause(date(2025, 9, 12), date(2025, 9, 16)),
        Pause(date(2025, 9, 10), date(2025, 9, 14)),
    ]
    deadline = sar_deadline(date(2025, 9, 3), pauses=pauses)
    assert deadline.paused_days == 7
    assert deadline.due == date(2025, 10, 10)
    assert "2 clarification pauses overlap" in " ".join(deadline.explanation)

    same_twice = [Pause(date(2025, 9, 10), date(2025, 9, 14))] * 2
    assert sar_deadline(date(2025, 9, 3), pauses=same_twice).paused_days == 5

    inside = [
        Pause(date(2025, 9, 10), date(2025, 9, 20)),
        Pause(date(2025, 9, 12), date(2025, 9, 13)),
    ]
    assert sar_deadline(date(2025, 9, 3), pauses=inside).paused_days == 11


def test_separate_pauses_add_up() -> None:
    pauses = [
        Pause(date(2025, 9, 10), date(2025, 9, 11)),
        Pause(date(2025, 9, 12), date(2025, 9, 14)),
    ]
    deadline = sar_deadline(date(2025, 9, 3), pauses=pauses)
    assert deadline.paused_days == 5
    assert deadline.due == date(2025, 10, 8)
    assert "In all, 5 paused days are added." in deadline.explanation


def test_open_pause_stops_the_clock() -> None:
    deadline = sar_deadline(date(2025, 9, 3), pauses=[Pause(date(2025, 9, 10), None)])
    assert deadline.due is None
    assert deadline.extension_notice_due is None
    assert deadline.unrolled is None
    text = " ".join(deadline.explanation)
    assert "The clock has been stopped since Wednesday 10 September 2025" in text
    assert "moves by every day it stays paused" in text
    assert deadline.as_dict()["due"] is None


def test_open_pause_overlapping_a_closed_one() -> None:
    pauses = [Pause(date(2025, 9, 10), date(2025, 9, 14)), Pause(date(2025, 9, 12), None)]
    deadline = sar_deadline(date(2025, 9, 3), pauses=pauses)
    assert deadline.due is None
    assert "stopped since Wednesday 10 September 2025" in " ".join(deadline.explanation)


# --- when the clock starts ---------------------------------------------------------------------


def test_clock_starts_when_id_arrives() -> None:
    deadline = sar_deadline(
        date(2025, 9, 3), clock_start=date(2025, 9, 10), clock_start_reason="the requester's ID"
    )
    assert deadline.day_one == date(2025, 9, 10)
    assert deadline.due == date(2025, 10, 10)  # a Friday
    assert deadline.explanation[0] == (
        "Day one is Wednesday 10 September 2025: the school asked for the requester's ID, and "
        "that is the day it arrived (the request itself arrived on Wednesday 3 September 2025)."
    )


def test_clock_start_without_reason_and_on_the_day_of_receipt() -> None:
    moved = sar_deadline(date(2025, 9, 3), clock_start=date(2025, 9, 10))
    assert "the school asked for ID, authority or a fee" in moved.explanation[0]
    same = sar_deadline(date(2025, 9, 3), clock_start=date(2025, 9, 3))
    assert same == sar_deadline(date(2025, 9, 3))


# --- refusals ----------------------------------------------------------------------------------


def test_clock_start_before_receipt_refused() -> None:
    with pytest.raises(DeadlineError, match="before the request arrived"):
        sar_deadline(date(2025, 9, 10), clock_start=date(2025, 9, 3))


def test_pause_before_day_one_refused() -> None:
    with pytest.raises(DeadlineError, match="before day one"):
        sar_deadline(date(2025, 9, 3), pauses=[Pause(date(2025, 9, 2), date(2025, 9, 5))])
    # Day one moved by ID: a pause before the ID arrived is also before day one.
    with pytest.raises(DeadlineError, match="before day one"):
        sar_deadline(
            date(2025, 9, 3),
            clock_start=date(2025, 9, 10),
            pauses=[Pause(date(2025, 9, 5), date(2025, 9, 6))],
        )


def test_pause_ending_before_it_starts_refused() -> None:
    with pytest.raises(DeadlineError, match="before it was asked for"):
        sar_deadline(date(2025, 9, 3), pauses=[Pause(date(2025, 9, 14), date(2025, 9, 10))])


def test_pause_after_the_deadline_refused() -> None:
    # The deadline was Fri 3 Oct 2025; a clarification asked on 6 Oct cannot revive it.
    with pytest.raises(DeadlineError, match="after the deadline"):
        sar_deadline(date(2025, 9, 3), pauses=[Pause(date(2025, 10, 6), date(2025, 10, 7))])
    # Asking on the last day itself is still in time.
    assert sar_deadline(date(2025, 9, 3), pauses=[Pause(date(2025, 10, 3), date(2025, 10, 3))])


def test_datetime_refused() -> None:
    with pytest.raises(TypeError, match="Europe/London"):
        sar_deadline(datetime(2025, 9, 3, 23, 30))  # type: ignore[arg-type]


def test_as_dict_is_json_ready() -> None:
    deadline = sar_deadline(date(2024, 1, 31), extended=True)
    data = json.loads(json.dumps(deadline.as_dict()))
    assert data["due"] == "2024-04-30"
    assert data["day_one"] == "2024-01-31"
    assert data["extension_notice_due"] == "2024-02-29"
    assert data["rule"] == "three months (extended)"
    assert isinstance(data["explanation"], list)


# --- properties --------------------------------------------------------------------------------

received_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
regions = st.sampled_from(REGIONS)


@st.composite
def requests(draw: st.DrawFn) -> tuple[date, str, list[Pause], bool]:
    received = draw(received_dates)
    region = draw(regions)
    pauses = []
    for _ in range(draw(st.integers(0, 3))):
        # Asked within the first 28 days: always before even the shortest month runs out.
        start = received + timedelta(days=draw(st.integers(0, 27)))
        end = start + timedelta(days=draw(st.integers(0, 20)))
        pauses.append(Pause(start, end))
    return received, region, pauses, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(requests())
def test_deadline_properties(request: tuple[date, str, list[Pause], bool]) -> None:
    received, region, pauses, extended = request
    deadline = sar_deadline(received, region=region, pauses=pauses, extended=extended)
    assert deadline.due is not None
    assert deadline.due >= deadline.day_one
    assert is_working_day(deadline.due, region)
    assert deadline.extension_notice_due is not None
    assert deadline.extension_notice_due <= deadline.due
    assert is_working_day(deadline.extension_notice_due, region)
    assert deadline.unrolled is not None and deadline.unrolled <= deadline.due

    if extended:
        one_month = sar_deadline(received, region=region, pauses=pauses)
        assert one_month.due is not None
        assert deadline.due > one_month.due
        assert deadline.extension_notice_due == one_month.due

    # Dropping the last pause never makes the deadline later, i.e. adding one never earlier.
    if pauses:
        fewer = sar_deadline(received, region=region, pauses=pauses[:-1], extended=extended)
        assert fewer.due is not None and fewer.due <= deadline.due


@settings(max_examples=300, deadline=None)
@given(received_dates, regions)
def test_plain_receipt_is_due_within_a_month_and_a_few_days(received: date, region: str) -> None:
    deadline = sar_deadline(received, region=region)
    assert deadline.due is not None
    assert received < deadline.due <= received + timedelta(days=31 + 4)
    assert deadline.extension_notice_due == deadline.due
    # Rolling only ever skips non-working days.
    day = deadline.unrolled
    assert day is not None
    while day < deadline.due:
        assert not is_working_day(day, region)
        day += timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(received_dates, regions, st.integers(0, 27))
def test_clock_start_never_earlier(received: date, region: str, delay: int) -> None:
    later = received + timedelta(days=delay)
    base = sar_deadline(received, region=region)
    moved = sar_deadline(received, region=region, clock_start=later)
    assert base.due is not None and moved.due is not None
    assert moved.due >= base.due
    assert moved.day_one == later
