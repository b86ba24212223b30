"""Term calendars and the 15-school-day educational record deadline (DOMAIN.md section 2).

Autumn 2026, checked against a real calendar: 1 September 2026 is a Tuesday; term runs
Wednesday 2 September to Friday 23 October, half term 26-30 October, then Monday 2 November to
Friday 18 December; Friday 16 October is an INSET day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.deadlines import (
    CalendarError,
    Closure,
    Term,
    TermCalendar,
    UnknownRegion,
    edu_record_deadline,
)

HALF_TERM_AS_GAP = """kind,start,end,name
term,2026-09-02,2026-10-23,Autumn 1
closure,2026-10-16,2026-10-16,INSET day
term,2026-11-02,2026-12-18,Autumn 2
"""

HALF_TERM_AS_CLOSURE = """kind,start,end,name
term,2026-09-02,2026-12-18,Autumn term
closure,2026-10-16,,INSET day
closure,2026-10-26,2026-10-30,Half term
"""

UK_STYLE = """Kind,Start,End,Name

term,02/09/2026,23/10/2026,Autumn 1
closure,16/10/2026,16/10/2026,INSET day

term,2/11/2026,18/12/2026,Autumn 2
"""


@pytest.fixture
def autumn() -> TermCalendar:
    return TermCalendar.from_csv(HALF_TERM_AS_GAP)


def test_parse(autumn: TermCalendar) -> None:
    assert autumn.terms == (
        Term(date(2026, 9, 2), date(2026, 10, 23), "Autumn 1"),
        Term(date(2026, 11, 2), date(2026, 12, 18), "Autumn 2"),
    )
    assert autumn.closures == (Closure(date(2026, 10, 16), "INSET day"),)


def test_school_days(autumn: TermCalendar) -> None:
    assert autumn.is_school_day(date(2026, 9, 2), "ENG")  # first day of term
    assert not autumn.is_school_day(date(2026, 9, 1), "ENG")  # before term
    assert not autumn.is_school_day(date(2026, 9, 5), "ENG")  # Saturday
    assert not autumn.is_school_day(date(2026, 10, 16), "ENG")  # INSET day
    assert not autumn.is_school_day(date(2026, 10, 28), "ENG")  # half term
    assert autumn.is_school_day(date(2026, 11, 2), "ENG")
    assert autumn.closure_name(date(2026, 10, 16)) == "INSET day"
    assert autumn.closure_name(date(2026, 10, 15)) is None
    assert autumn.covers(date(2026, 12, 18))
    assert not autumn.covers(date(2026, 12, 19))


def test_bank_holiday_in_term_is_not_a_school_day() -> None:
    summer = TermCalendar.from_csv("kind,start,end,name\nterm,2027-04-12,2027-05-28,Summer 1\n")
    assert not summer.is_school_day(date(2027, 5, 3), "ENG")  # Early May bank holiday
    # Received Fri 30 Apr 2027: Mon 3 May skipped; 4-7 May (4), 10-14 (9), 17-21 (14), Mon 24.
    deadline = edu_record_deadline(date(2027, 4, 30), summer)
    assert deadline.due == date(2027, 5, 24)
    assert "a bank holiday (Monday 3 May 2027)" in " ".join(deadline.explanation)


def test_region_matters_for_school_days() -> None:
    nir = TermCalendar.from_csv("kind,start,end,name\nterm,2025-02-24,2025-04-11,Spring 2\n")
    assert nir.is_school_day(date(2025, 3, 17), "ENG")
    assert not nir.is_school_day(date(2025, 3, 17), "NIR")  # St Patrick's Day
    with pytest.raises(UnknownRegion):
        nir.is_school_day(date(2025, 3, 17), "XX")


def test_fifteen_days_across_weekend_inset_and_half_term(autumn: TermCalendar) -> None:
    # Received Thu 8 Oct. Fri 9 (1); 12-15 (5); INSET Fri 16; 19-23 (10); half term;
    # 2-6 Nov (15). Skipped: 10-11 and 17-18 Oct (4 weekend days), 24 Oct-1 Nov (9 days).
    deadline = edu_record_deadline(date(2026, 10, 8), autumn)
    assert deadline.due == date(2026, 11, 6)
    assert deadline.day_one == date(2026, 10, 9)
    assert deadline.rule == "15 school days"
    assert deadline.paused_days == 0
    text = " ".join(deadline.explanation)
    assert "The request was received on Thursday 8 October 2026; that day does not count." in text
    assert "Friday 9 October 2026 is school day 1" in text
    assert "14 days with no school sessions are skipped" in text
    assert "4 weekend days" in text
    assert "9 days of school holidays between terms" in text
    assert "INSET day (Friday 16 October 2026)" in text
    assert "The 15th school day is Friday 6 November 2026" in text


def test_half_term_as_closure_gives_the_same_day() -> None:
    by_closure = TermCalendar.from_csv(HALF_TERM_AS_CLOSURE)
    deadline = edu_record_deadline(date(2026, 10, 8), by_closure)
    assert deadline.due == date(2026, 11, 6)
    text = " ".join(deadline.explanation)
    assert "Half term, 5 days (Monday 26 October 2026 to Friday 30 October 2026)" in text
    assert "8 weekend days" in text  # 10-11, 17-18, 24-25 Oct and 31 Oct-1 Nov


def test_received_in_the_holidays(autumn: TermCalendar) -> None:
    # Received Tue 27 Oct (half term): counting starts Mon 2 Nov; 2-6 (5), 9-13 (10), 16-20 (15).
    deadline = edu_record_deadline(date(2026, 10, 27), autumn)
    assert deadline.day_one == date(2026, 11, 2)
    assert deadline.due == date(2026, 11, 20)
    # Received in the summer holidays: term starts Wed 2 Sep; 2-4 (3), 7-11 (8), 14-18 (13),
    # 21 (14), Tue 22 Sep (15).
    summer = edu_record_deadline(date(2026, 8, 20), autumn)
    assert summer.day_one == date(2026, 9, 2)
    assert summer.due == date(2026, 9, 22)


def test_received_on_a_friday(autumn: TermCalendar) -> None:
    # Fri 9 Oct: 12-15 (4); INSET 16; 19-23 (9); half term; 2-6 Nov (14); Mon 9 Nov (15).
    deadline = edu_record_deadline(date(2026, 10, 9), autumn)
    assert deadline.day_one == date(2026, 10, 12)
    assert deadline.due == date(2026, 11, 9)
    assert "Monday 12 October 2026 is school day 1" in " ".join(deadline.explanation)


def test_received_on_a_school_day_does_not_count_that_day(autumn: TermCalendar) -> None:
    # Mon 7 Sep: 8-11 (4), 14-18 (9), 21-25 (14), Mon 28 Sep (15).
    assert edu_record_deadline(date(2026, 9, 7), autumn).due == date(2026, 9, 28)


def test_calendar_too_short(autumn: TermCalendar) -> None:
    # Mon 7 Dec: only 8-11 and 14-18 Dec (9 school days) are left this term.
    with pytest.raises(CalendarError) as caught:
        edu_record_deadline(date(2026, 12, 7), autumn)
    assert str(caught.value) == (
        "The term calendar ends on Friday 18 December 2026; import next year's term dates to "
        "work out this deadline."
    )
    # Exactly enough: Fri 27 Nov leaves 30 Nov-4 Dec (5), 7-11 (10), 14-18 (15).
    assert edu_record_deadline(date(2026, 11, 27), autumn).due == date(2026, 12, 18)


def test_as_dict(autumn: TermCalendar) -> None:
    data = edu_record_deadline(date(2026, 10, 8), autumn).as_dict()
    assert data["due"] == "2026-11-06"
    assert data["rule"] == "15 school days"


# --- CSV import --------------------------------------------------------------------------------


def test_uk_dates_and_blank_lines_accepted(autumn: TermCalendar) -> None:
    assert TermCalendar.from_csv(UK_STYLE) == autumn


def test_closure_range_expands_to_each_day() -> None:
    calendar = TermCalendar.from_csv(HALF_TERM_AS_CLOSURE)
    half_term = [c.day for c in calendar.closures if c.name == "Half term"]
    assert half_term == [date(2026, 10, 26) + timedelta(days=n) for n in range(5)]


def test_every_bad_row_is_listed() -> None:
    text = "\n".join(
        [
            "kind,start,end,name",  # row 1
            "term,2026-09-02,2026-10-23,Autumn 1",  # row 2: fine
            "holiday,2026-10-26,2026-10-30,Half term",  # row 3: unknown kind
            "closure,2026-13-01,2026-13-01,INSET day",  # row 4: not a real date
            "",  # row 5: blank, ignored but counted
            "term,2026-12-18,2026-11-02,Autumn 2",  # row 6: end before start
            "term,2026-10-01,2026-10-30,Clash",  # row 7: overlaps row 2
            "closure,next friday,,Strike",  # row 8: not a date
            "closure,2026-10-16,2026-10-16,",  # row 9: no name
            "term,2027-01-05,2027-02-12,Spring 1,extra",  # row 10: too many columns
        ]
    )
    with pytest.raises(CalendarError) as caught:
        TermCalendar.from_csv(text)
    message = str(caught.value)
    for row in (3, 4, 6, 7, 8, 9, 10):
        assert f"row {row}:" in message
    assert "row 2:" not in message
    assert "row 5:" not in message
    assert "unknown kind 'holiday'" in message
    assert "row 4: start date: There is no month 13." in message
    assert "end 2026-11-02 is before start 2026-12-18" in message
    assert "overlaps term 'Autumn 1' (row 2)" in message
    assert '"next friday" is not a date. Write it day first with the year' in message
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "row 3",
        "row 4",  # start and end are both bad: each is reported
        "row 4",
        "row 6",
        "row 7",
        "row 8",
        "row 9",
        "row 10",
    ]


def test_bad_header_and_empty_files() -> None:
    with pytest.raises(CalendarError, match="row 1: the first row must be the header"):
        TermCalendar.from_csv("type,from,to,label\nterm,2026-09-02,2026-10-23,Autumn 1\n")
    with pytest.raises(CalendarError, match="empty"):
        TermCalendar.from_csv("\n\n")
    with pytest.raises(CalendarError, match="no term rows"):
        TermCalendar.from_csv("kind,start,end,name\nclosure,2026-10-16,,INSET day\n")


def test_excel_quirks_accepted() -> None:
    text = (
        '\ufeffkind,start,end,name,,\r\nTERM, 2026-09-02 ,2026-10-23,"Autumn 1, first half",,\r\n'
    )
    calendar = TermCalendar.from_csv(text)
    assert calendar.terms == (Term(date(2026, 9, 2), date(2026, 10, 23), "Autumn 1, first half"),)


def test_to_csv_round_trip(autumn: TermCalendar) -> None:
    for calendar in (autumn, TermCalendar.from_csv(HALF_TERM_AS_CLOSURE)):
        text = calendar.to_csv()
        assert text.startswith("kind,start,end,name\n")
        assert TermCalendar.from_csv(text) == calendar
    assert "closure,2026-10-26,2026-10-30,Half term" in (
        TermCalendar.from_csv(HALF_TERM_AS_CLOSURE).to_csv()
    )


def test_overlapping_terms_refused_when_built_directly() -> None:
    with pytest.raises(CalendarError, match="must not overlap"):
        TermCalendar(
            terms=(
                Term(date(2026, 9, 2), date(2026, 10, 23), "A"),
                Term(date(2026, 10, 1), date(2026, 12, 18), "B"),
            ),
            closures=(),
        )


names = (
    st.text(
        alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" ,'\"-"),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def calendars(draw: st.DrawFn) -> TermCalendar:
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)))
    terms = []
    for _ in range(draw(st.integers(1, 4))):
        end = start + timedelta(days=draw(st.integers(0, 60)))
        terms.append(Term(start, end, draw(names)))
        start = end + timedelta(days=draw(st.integers(1, 20)))
    closures = []
    for _ in range(draw(st.integers(0, 6))):
        day = terms[0].start + timedelta(days=draw(st.integers(0, 200)))
        closures.append(Closure(day, draw(names)))
    return TermCalendar(terms=tuple(terms), closures=tuple(closures))


@settings(max_examples=200, deadline=None)
@given(calendars())
def test_to_csv_round_trip_property(calendar: TermCalendar) -> None:
    assert TermCalendar.from_csv(calendar.to_csv()) == calendar


@settings(max_examples=200, deadline=None)
@given(calendars(), st.integers(0, 120))
def test_deadline_is_the_fifteenth_school_day(calendar: TermCalendar, offset: int) -> None:
    received = calendar.terms[0].start - timedelta(days=10) + timedelta(days=offset)
    try:
        deadline = edu_record_deadline(received, calendar)
    except CalendarError:
        return
    assert deadline.due is not None
    assert calendar.is_school_day(deadline.due, "ENG")
    days = [
        received + timedelta(days=n)
        for n in range(1, (deadline.due - received).days + 1)
        if calendar.is_school_day(received + timedelta(days=n), "ENG")
    ]
    assert len(days) == 15
    assert days[0] == deadline.day_one
