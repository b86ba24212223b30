"""Dates and times as staff in England type them: day first, relative to a fixed today."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from workflows.core.dates import (
    DateParseError,
    describe_date,
    describe_datetime,
    parse_date,
    parse_datetime,
)

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 27)
NEW_YEAR = date(2027, 1, 5)  # a Tuesday, just after the year turned
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=LONDON)  # Monday morning, GMT
SPRING_FORWARD = datetime(2026, 3, 29, 12, 0, tzinfo=LONDON)  # 01:00-02:00 never happened
FALL_BACK = datetime(2026, 10, 25, 12, 0, tzinfo=LONDON)  # 01:00-02:00 happened twice

# Every catch-all refusal offers these; tests check a refusal shows at least one form that works.
DATE_EXAMPLES = ('"yesterday"', '"last Friday"', '"3/9/2026"')
DATETIME_EXAMPLES = ('"yesterday at 3pm"', '"today 9:30"', '"3/9/2026 14:00"')


def refusal(text: str, today: date = MONDAY) -> str:
    with pytest.raises(DateParseError) as caught:
        parse_date(text, today=today)
    return str(caught.value)


def datetime_refusal(text: str, now: datetime = NOW) -> str:
    with pytest.raises(DateParseError) as caught:
        parse_datetime(text, now=now)
    return str(caught.value)


# --- parse_date: accepted forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", MONDAY),
        ("Today", MONDAY),
        ("  TODAY!  ", MONDAY),
        ("now", MONDAY),
        ("yesterday", MONDAY - timedelta(days=1)),
        ("Yesterday.", MONDAY - timedelta(days=1)),
        ("tomorrow", MONDAY + timedelta(days=1)),
        ("the day before yesterday", MONDAY - timedelta(days=2)),
        ("(yesterday)", MONDAY - timedelta(days=1)),
    ],
)
def test_day_words(text: str, expected: date) -> None:
    assert parse_date(text, today=MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "today", "prefer_past", "expected"),
    [
        # Today is Monday 23 November 2026.
        ("Friday", MONDAY, True, date(2026, 11, 20)),
        ("friday", MONDAY, False, date(2026, 11, 27)),
        ("on Friday", MONDAY, True, date(2026, 11, 20)),
        ("this Friday", MONDAY, True, date(2026, 11, 20)),
        ("this Friday", MONDAY, False, date(2026, 11, 27)),
        ("fri", MONDAY, True, date(2026, 11, 20)),
        ("last Friday", MONDAY, True, date(2026, 11, 20)),
        ("last fri", MONDAY, False, date(2026, 11, 20)),
        ("next Friday", MONDAY, True, date(2026, 11, 27)),
        ("Monday", MONDAY, True, MONDAY),
        ("Monday", MONDAY, False, MONDAY),
        ("last Monday", MONDAY, True, date(2026, 11, 16)),
        ("next Monday", MONDAY, True, date(2026, 11, 30)),
        ("tues", MONDAY, True, date(2026, 11, 17)),
        ("weds", MONDAY, False, date(2026, 11, 25)),
        ("Thurs", MONDAY, True, date(2026, 11, 19)),
        ("on last Sunday", MONDAY, True, date(2026, 11, 22)),
        # Today is Friday 27 November 2026.
        ("Friday", FRIDAY, True, FRIDAY),
        ("Friday", FRIDAY, False, FRIDAY),
        ("last Friday", FRIDAY, True, date(2026, 11, 20)),
        ("next Friday", FRIDAY, True, date(2026, 12, 4)),
        ("Thursday", FRIDAY, True, date(2026, 11, 26)),
        ("Saturday", FRIDAY, True, date(2026, 11, 21)),
        ("Saturday", FRIDAY, False, date(2026, 11, 28)),
    ],
)
def test_weekdays(text: str, today: date, prefer_past: bool, expected: date) -> None:
    assert parse_date(text, today=today, prefer_past=prefer_past) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 days ago", date(2026, 11, 20)),
        ("1 day ago", date(2026, 11, 22)),
        ("a day ago", date(2026, 11, 22)),
        ("a week ago", date(2026, 11, 16)),
        ("2 weeks ago", date(2026, 11, 9)),
        ("two weeks ago", date(2026, 11, 9)),
        ("a fortnight ago", date(2026, 11, 9)),
        ("a month ago", date(2026, 10, 23)),
        ("in 3 days", date(2026, 11, 26)),
        ("in a week", date(2026, 11, 30)),
        ("0 days ago", MONDAY),
    ],
)
def test_counted_back_and_forward(text: str, expected: date) -> None:
    assert parse_date(text, today=MONDAY) == expected


def test_month_arithmetic_lands_on_the_last_day() -> None:
    assert parse_date("a month ago", today=date(2026, 3, 31)) == date(2026, 2, 28)


@pytest.mark.parametrize(
    "text",
    [
        "3/9",
        "03/09",
        "3/9/26",
        "03/09/26",
        "3/9/2026",
        "3.9.2026",
        "3-9-2026",
        "2026-09-03",
        "2026-9-3",
        "3 Sept",
        "3 Sep",
        "3 sept.",
        "3rd September",
        "3 September 2026",
        "3 SEPTEMBER 2026",
        "3rd of September",
        "the 3rd of September, 2026",
        "on 3 September",
        "Sept 3",
        "September 3rd, 2026",
        "September 3rd 2026",
        "03-Sep-2026",
        "3 Sep 26",
        "Thursday 3 September 2026",
        "Thursday, 3rd September 2026",
        "thu 3/9/2026",
        "on Thursday 3 September",
        "  3/9/2026.  ",
    ],
)
def test_third_of_september(text: str) -> None:
    assert parse_date(text, today=MONDAY) == date(2026, 9, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9/3", date(2026, 3, 9)),  # day first: 9 March, never 3 September
        ("1/12", date(2025, 12, 1)),  # after Monday 23 November, so last year's (prefer_past)
        ("12/1/2026", date(2026, 1, 12)),
        ("31/12/1999", date(1999, 12, 31)),
        ("1/1/00", date(2000, 1, 1)),
        ("3/9/99", date(2099, 9, 3)),  # two-digit years are always 20YY
        ("3/9/2030", date(2030, 9, 3)),  # future dates are the caller's business
        ("29/2/2024", date(2024, 2, 29)),
    ],
)
def test_day_first_numbers(text: str, expected: date) -> None:
    assert parse_date(text, today=MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "today", "prefer_past", "expected"),
    [
        ("25 Dec", NEW_YEAR, True, date(2026, 12, 25)),  # last Christmas
        ("25/12", NEW_YEAR, True, date(2026, 12, 25)),
        ("25 Dec", NEW_YEAR, False, date(2027, 12, 25)),
        ("5 Jan", NEW_YEAR, True, NEW_YEAR),  # today is not the future
        ("5 Jan", NEW_YEAR, False, NEW_YEAR),
        ("6 Jan", NEW_YEAR, True, date(2026, 1, 6)),
        ("4 Jan", NEW_YEAR, False, date(2028, 1, 4)),
        ("3/9", MONDAY, True, date(2026, 9, 3)),  # already past: this year
        ("3/9", MONDAY, False, date(2027, 9, 3)),
        ("29/2", MONDAY, True, date(2024, 2, 29)),  # the latest leap day
        ("29 Feb", MONDAY, False, date(2028, 2, 29)),
        ("Friday 25 December", NEW_YEAR, True, date(2026, 12, 25)),
    ],
)
def test_year_when_none_is_typed(text: str, today: date, prefer_past: bool, expected: date) -> None:
    assert parse_date(text, today=today, prefer_past=prefer_past) == expected


# --- parse_date: refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "...", "?!"])
def test_empty_is_refused_with_examples(text: str) -> None:
    message = refusal(text)
    assert "didn't catch a date" in message
    assert any(form in message for form in DATE_EXAMPLES)


@pytest.mark.parametrize(
    "text",
    [
        "blah",
        "the other day",
        "3 days",  # no direction
        "in 3 days ago",
        "2026",
        "3/9/2026/1",
        "3/9.2026",  # mixed separators
        "3/9/202",
        "32nd",
        "Friday 3 Blah",
        "last blah",
        "٣/٩",  # only ASCII digits are dates
        "999999 days ago",
    ],
)
def test_nonsense_is_refused_with_examples(text: str) -> None:
    message = refusal(text)
    assert "didn't understand" in message
    assert any(form in message for form in DATE_EXAMPLES)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/2", "There is no 31 February: February has 28 days (29 in a leap year)."),
        ("30 February 2025", "There is no 30 February 2025: February 2025 has 28 days."),
        ("29/2/2025", "February 2025 has 28 days."),
        ("31 April", "There is no 31 April: April has 30 days."),
        ("31/4/2026", "April 2026 has 30 days."),
        ("32/1", "January has 31 days"),
        ("0/5", "There is no day 0 in May"),
        ("9/13/2026", 'There is no month 13. I read dates day first, so 13 September is "13/9".'),
        ("3/13", '13 March is "13/3"'),
        ("13/13", "There is no month 13."),
        ("3/0", "There is no month 0."),
        ("2026-13-03", "There is no month 13."),
        ("3/9/0000", "There is no year 0."),
        ("September", 'Which day in September? For example "3 September".'),
        ("sept", "Which day in September?"),
        ("September 2026", 'Which day in September 2026? For example "3 September 2026".'),
        ("the 3rd", 'Which month? For example "3 September" or "3/9".'),
        ("Friday the 13th", "Which month?"),
        ("next week sometime", 'Which day next week? Try something like "next Tuesday"'),
        ("last week", "Which day last week?"),
        ("this month", "Which day this month?"),
        ("Friday 3 September 2026", "3 September 2026 is a Thursday, not a Friday."),
        ("Mon 3/9/26", "3 September 2026 is a Thursday, not a Monday."),
        ("3pm", "I only need the date here, not the time."),
        ("yesterday at 14:00", "not the time"),
        ("2 hours ago", "not the time"),
        ("9999 years ago", "too far away"),
    ],
)
def test_refusals_say_why(text: str, reason: str) -> None:
    assert reason in refusal(text)


def test_us_order_is_never_guessed() -> None:
    """dateutil would quietly swap "3/13/2026" to 13 March; a DPO's deadline cannot risk that."""
    assert parse_date("9/3/2026", today=MONDAY) == date(2026, 3, 9)
    with pytest.raises(DateParseError):
        parse_date("3/13/2026", today=MONDAY)


def test_long_input_is_cut_short_in_the_message() -> None:
    message = refusal("blah " * 100)
    assert len(message) < 200
    assert "…" in message


def test_is_a_value_error() -> None:
    assert issubclass(DateParseError, ValueError)


# --- parse_datetime ------------------------------------------------------------------------------


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("just now", NOW),
        ("today", at(MONDAY, 0)),
        ("yesterday", at(date(2026, 11, 22), 0)),
        ("3/9", at(date(2026, 9, 3), 0)),
        ("last Friday", at(date(2026, 11, 20), 0)),
        ("today 9:30", at(MONDAY, 9, 30)),
        ("today at 9:30", at(MONDAY, 9, 30)),
        ("Today, 09:30", at(MONDAY, 9, 30)),
        ("yesterday at 3pm", at(date(2026, 11, 22), 15)),
        ("yesterday at 3 pm", at(date(2026, 11, 22), 15)),
        ("yesterday @ 3p.m.", at(date(2026, 11, 22), 15)),
        ("3pm yesterday", at(date(2026, 11, 22), 15)),
        ("9:30 on Friday", at(date(2026, 11, 20), 9, 30)),
        ("3/9 14:00", at(date(2026, 9, 3), 14)),
        ("3/9/2026 at 14.00", at(date(2026, 9, 3), 14)),
        ("3 September 2026 at 2.15pm", at(date(2026, 9, 3), 14, 15)),
        ("Thursday 3 September 2026 at 2:15 PM", at(date(2026, 9, 3), 14, 15)),
        ("10am", at(MONDAY, 10)),
        ("at 10am", at(MONDAY, 10)),
        ("14:05", at(MONDAY, 14, 5)),  # later than now, still today
        ("at 14.05", at(MONDAY, 14, 5)),
        ("noon", at(MONDAY, 12)),
        ("midday", at(MONDAY, 12)),
        ("yesterday at 12 noon", at(date(2026, 11, 22), 12)),
        ("yesterday at midnight", at(date(2026, 11, 22), 0)),
        ("12am", at(MONDAY, 0)),
        ("12pm", at(MONDAY, 12)),
        ("12:30am", at(MONDAY, 0, 30)),
        ("00:00", at(MONDAY, 0)),
        ("23:59", at(MONDAY, 23, 59)),
        ("an hour ago", NOW - timedelta(hours=1)),
        ("2 hours ago", NOW - timedelta(hours=2)),
        ("30 minutes ago", NOW - timedelta(minutes=30)),
        ("30 mins ago", NOW - timedelta(minutes=30)),
        ("half an hour ago", NOW - timedelta(minutes=30)),
        ("in 2 hours", NOW + timedelta(hours=2)),
        ("3 days ago", at(date(2026, 11, 20), 0)),
    ],
)
def test_datetimes(text: str, expected: datetime) -> None:
    result = parse_datetime(text, now=NOW)
    assert result == expected
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)  # same wall time too
    assert result.tzinfo is LONDON


def test_datetime_prefer_past_reaches_the_date() -> None:
    assert parse_datetime("Friday 9am", now=NOW) == at(date(2026, 11, 20), 9)
    assert parse_datetime("Friday 9am", now=NOW, prefer_past=False) == at(date(2026, 11, 27), 9)
    assert parse_datetime("25 Dec 9am", now=NOW) == at(date(2025, 12, 25), 9)


def test_datetime_keeps_any_aware_zone() -> None:
    now = datetime(2026, 11, 23, 10, 30, tzinfo=timezone(timedelta(hours=-5)))
    result = parse_datetime("yesterday at 3pm", now=now)
    assert result == datetime(2026, 11, 22, 15, 0, tzinfo=now.tzinfo)
    assert result.tzinfo is now.tzinfo


def test_datetime_needs_an_aware_now() -> None:
    with pytest.raises(ValueError) as caught:
        parse_datetime("now", now=datetime(2026, 11, 23, 10, 30))
    assert not isinstance(caught.value, DateParseError)  # a programming error, not a teacher's


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25:00", '"25:00" isn\'t a time: hours go from 00 to 23'),
        ("24:00", 'For midnight type "00:00"'),
        ("today 9:60", "minutes go from 00 to 59"),
        (
            "13pm",
            '"13pm" isn\'t a time: with am or pm the hour goes from 1 to 12. Try "1pm" or "13:00".',
        ),
        ("yesterday at 0am", 'For midnight type "midnight" or "00:00"'),
        ("3:75pm", "minutes go from 00 to 59"),
        ("30pm", "the hour goes from 1 to 12"),
        ("14.05", '"14.05" could be a date or a time. For the date type "14/5"'),
        ("at 10", 'Which 10 o\'clock? Try "10am" or "10pm".'),
        ("yesterday at 3", 'Try "3am" or "3pm"'),
        ("at 12", '"noon" or "midnight"'),
        ("at 15", 'Try "15:00"'),
        ("yesterday afternoon", "What time exactly?"),
        ("this morning", "What time exactly?"),
        ("September at 3pm", "Which day in September?"),
        ("31/2 at 9am", "There is no 31 February"),
        ("Friday 3/9/2026 9am", "is a Thursday, not a Friday"),
        ("next week sometime", "Which day next week?"),
    ],
)
def test_datetime_refusals_say_why(text: str, reason: str) -> None:
    assert reason in datetime_refusal(text)


@pytest.mark.parametrize(
    "text", ["", "  ", "blah", "yesterday at blah", "blah at 3pm", "3 o'clock", "3 hours"]
)
def test_datetime_nonsense_gives_examples(text: str) -> None:
    message = datetime_refusal(text)
    assert any(form in message for form in DATETIME_EXAMPLES)


# --- clock changes -----------------------------------------------------------------------------


def test_spring_forward_gap_is_refused() -> None:
    message = datetime_refusal("1:30am", now=SPRING_FORWARD)
    assert "never happened" in message
    assert "clocks went forward" in message
    assert '"02:30"' in message
    assert "never happened" in datetime_refusal("29/3/2026 at 01:00", now=NOW)


def test_either_side_of_the_gap_is_fine() -> None:
    before = parse_datetime("12:59am", now=SPRING_FORWARD)
    after = parse_datetime("2am", now=SPRING_FORWARD)
    assert before.utcoffset() == timedelta(0)
    assert after.utcoffset() == timedelta(hours=1)
    # Aware subtraction in one zone is wall-clock; in UTC the skipped hour shows as nothing.
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(minutes=1)


def test_yesterday_across_spring_forward_keeps_wall_time() -> None:
    result = parse_datetime("yesterday at 3pm", now=SPRING_FORWARD)
    assert (result.date(), result.time()) == (date(2026, 3, 28), time(15))
    assert result.utcoffset() == timedelta(0)  # GMT on the Saturday
    result = parse_datetime("yesterday at 3pm", now=SPRING_FORWARD + timedelta(days=1))
    assert (result.date(), result.time()) == (date(2026, 3, 29), time(15))
    assert result.utcoffset() == timedelta(hours=1)  # BST on the Sunday afternoon


def test_hours_ago_is_elapsed_time_across_the_change() -> None:
    now = datetime(2026, 3, 29, 3, 0, tzinfo=LONDON)  # 02:00 UTC
    result = parse_datetime("2 hours ago", now=now)
    assert result.astimezone(UTC) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert result.replace(tzinfo=None) == datetime(2026, 3, 29, 0, 0)  # 00:00 GMT, not 01:00
    assert result.tzinfo is LONDON


def test_repeated_autumn_hour_is_the_first() -> None:
    result = parse_datetime("1:30am", now=FALL_BACK)
    assert result.replace(tzinfo=None) == datetime(2026, 10, 25, 1, 30)
    assert result.utcoffset() == timedelta(hours=1)  # still BST


# --- describing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "today", "expected"),
    [
        (date(2026, 9, 3), None, "Thursday 3 September 2026"),
        (MONDAY, None, "Monday 23 November 2026"),
        (MONDAY, MONDAY, "today (Monday 23 November 2026)"),
        (date(2026, 11, 22), MONDAY, "yesterday (Sunday 22 November 2026)"),
        (date(2026, 11, 24), MONDAY, "tomorrow (Tuesday 24 November 2026)"),
        (date(2026, 11, 21), MONDAY, "Saturday 21 November 2026"),
        (date(2026, 12, 31), NEW_YEAR, "Thursday 31 December 2026"),
        (date(2027, 1, 4), NEW_YEAR, "yesterday (Monday 4 January 2027)"),
    ],
)
def test_describe_date(day: date, today: date | None, expected: str) -> None:
    assert describe_date(day, today) == expected


def test_describe_datetime_uses_the_moments_own_zone() -> None:
    moment = datetime(2026, 9, 3, 14, 5, tzinfo=LONDON)
    assert describe_datetime(moment) == "Thursday 3 September 2026 at 14:05"
    assert describe_datetime(moment.astimezone(UTC)) == "Thursday 3 September 2026 at 13:05"
    assert describe_datetime(datetime(2026, 1, 1, 9, 0)) == "Thursday 1 January 2026 at 09:00"


# --- properties --------------------------------------------------------------------------------

CENTURY = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
# Pieces of the accepted forms, so that generated text reaches past the first check.
PIECES = st.sampled_from(
    [
        "last", "next", "this", "on", "at", "the", "of", "in", "ago", "a", "an", "half",
        "friday", "thurs", "sept", "february", "may", "today", "yesterday", "now", "noon",
        "day", "days", "weeks", "fortnight", "hours", "mins", "3", "03", "13", "29", "31",
        "0", "00", "99", "2026", "0000", "9999", "3rd", "3/9", "31/2", "9/13", "3.9.2026",
        "2026-09-03", "14:05", "25:00", "2.15pm", "13pm", "0am", "12am", "14.05", ",", ".",
        "-", "/", ":", "morning", "week",
    ]
)  # fmt: skip
PIECED_TEXT = st.lists(PIECES, max_size=6).map(" ".join)


@given(text=st.text() | PIECED_TEXT, today=CENTURY, prefer_past=st.booleans())
@example(text="0/0/0000", today=MONDAY, prefer_past=True)
@example(text="31/12/9999", today=date(9999, 12, 31), prefer_past=False)
@example(text="tomorrow", today=date.max, prefer_past=True)
@example(text="next friday", today=date.max, prefer_past=True)
@example(text="29/2", today=date(1, 1, 1), prefer_past=True)
@example(text="9999 years ago", today=MONDAY, prefer_past=True)
def test_parse_date_only_ever_raises_date_parse_error(
    text: str, today: date, prefer_past: bool
) -> None:
    try:
        result = parse_date(text, today=today, prefer_past=prefer_past)
    except DateParseError as error:
        assert str(error)
    else:
        assert isinstance(result, date)


@given(
    text=st.text() | PIECED_TEXT,
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(LONDON)
    ),
    prefer_past=st.booleans(),
)
@example(text="31/12/9999 23:59", now=NOW, prefer_past=True)
@example(text="1/1/0001 00:00", now=NOW, prefer_past=True)
@example(text="9999 hours ago", now=NOW, prefer_past=True)
def test_parse_datetime_only_ever_raises_date_parse_error(
    text: str, now: datetime, prefer_past: bool
) -> None:
    try:
        result = parse_datetime(text, now=now, prefer_past=prefer_past)
    except DateParseError as error:
        assert str(error)
    else:
        assert result.tzinfo is LONDON


@given(day=CENTURY, today=CENTURY)
def test_numeric_and_described_dates_round_trip(day: date, today: date) -> None:
    assert parse_date(day.strftime("%d/%m/%Y"), today=today) == day
    assert parse_date(day.strftime("%d/%m/%y"), today=today) == day
    assert parse_date(f"{day.day}/{day.month}/{day.year}", today=today) == day
    assert parse_date(day.isoformat(), today=today) == day
    assert parse_date(describe_date(day), today=today) == day
    assert parse_date(describe_date(day).lower(), today=today) == day


@given(day=CENTURY, today=CENTURY, prefer_past=st.booleans())
def test_yearless_dates_are_the_nearest_in_the_preferred_direction(
    day: date, today: date, prefer_past: bool
) -> None:
    result = parse_date(f"{day.day}/{day.month}", today=today, prefer_past=prefer_past)
    assert (result.month, result.day) == (day.month, day.day)
    if prefer_past:
        assert result <= today
        assert (day.month, day.day) == (2, 29) or result > today - timedelta(days=366)
    else:
        assert result >= today
        assert (day.month, day.day) == (2, 29) or result < today + timedelta(days=366)


WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@given(today=CENTURY, index=st.integers(0, 6))
def test_weekday_words_land_in_the_right_week(today: date, index: int) -> None:
    name = WEEKDAY_NAMES[index]
    last = parse_date(f"last {name}", today=today)
    bare_past = parse_date(name, today=today)
    bare_future = parse_date(name[:3], today=today, prefer_past=False)
    upcoming = parse_date(f"next {name}", today=today)
    for result in (last, bare_past, bare_future, upcoming):
        assert result.weekday() == index
    assert 1 <= (today - last).days <= 7
    assert 0 <= (today - bare_past).days <= 6
    assert 0 <= (bare_future - today).days <= 6
    assert 1 <= (upcoming - today).days <= 7


@given(
    day=st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)),
    clock=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_typed_wall_times_come_back_or_are_refused_as_skipped(day: date, clock: time) -> None:
    now = datetime.combine(day, time(12), tzinfo=LONDON)
    text = f"{describe_date(day)} at {clock:%H:%M}"
    try:
        result = parse_datetime(text, now=now)
    except DateParseError as error:
        assert "never happened" in str(error)
        roundtrip = datetime.combine(day, clock, tzinfo=LONDON).astimezone(UTC)
        assert roundtrip.astimezone(LONDON).time() != clock
    else:
        assert (result.date(), result.time()) == (day, clock)
        assert describe_datetime(result) == f"{describe_date(day)} at {clock:%H:%M}"
