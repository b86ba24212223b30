"""What every listing says: a met deadline reads as met, a request by its own kind, review
dates on working days, and no one told of what they themselves just did."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from tests.conftest import School_
from tests.test_breach import REF as BREACH
from tests.test_breach import WRONG_PARENT
from tests.test_consent import export, run_import
from tests.test_sar_workflow import EDU_RECORD, set_calendar
from tests.test_software import MATHS_APP, NOW, products
from tests.test_software import REF as SOFTWARE
from workflows.notifications.models import Notification


def notes(school: School_, who: str) -> list[str]:
    with Session(school.engine) as session:
        return [n.kind for n in session.exec(select(Notification).where(
            Notification.person_id == school.people[who]).order_by(col(Notification.id)))]


def test_a_met_breach_deadline_reads_as_met_in_every_listing(school: School_) -> None:
    school.says("sam", "report a breach", *WRONG_PARENT)
    school.says("sam", "report a breach", "I left a class list on the bus", "now", "no", "yes")
    school.says("dee", f"not reportable {BREACH}", "Recalled unread within a minute.", "yes")
    school.now += timedelta(hours=95)  # 23 hours past both 72-hour deadlines
    for command in ("cases", "digest", "trust"):
        said = school.says("dee", command)
        decided = next(line for line in said.splitlines() if BREACH in line)
        assert "met in time" in decided and "overdue" not in decided, (command, said)
        undecided = next(line for line in said.splitlines() if "BRE-2026-0002" in line)
        assert "overdue by 23 hours" in undecided, (command, said)
    # Undecided and overdue comes first; the met one after it.
    assert school.says("dee", "digest").index("BRE-2026-0002") < school.says(
        "dee", "digest").index(BREACH)
    # The reporter adding details after the decision is not told of an overdue clock either.
    details = school.says("sam", f"add details {BREACH}")
    assert "overdue" not in details.lower()


def test_a_late_decision_reads_as_met_late(school: School_) -> None:
    school.says("sam", "report a breach", *WRONG_PARENT)
    school.now += timedelta(hours=80)
    school.says("dee", f"not reportable {BREACH}", "Recalled unread within a minute.",
                "Nobody saw the alert over the weekend.", "yes")
    listing = school.says("dee", "cases")
    assert "met late" in listing and "overdue" not in listing


def test_every_listing_names_an_educational_record_request_as_one(school: School_) -> None:
    set_calendar(school)
    school.says("sam", *EDU_RECORD, "yes")
    for command in ("digest", "trust", "cases"):
        said = school.says("dee", command)
        assert "Educational record request" in said, (command, said)
        line = next(line for line in said.splitlines() if "SAR-2026-0001" in line)
        assert "Subject access request" not in line, (command, line)
    (card,) = school.say("dee", "SAR-2026-0001")
    assert card.title == "Educational record request"


def test_a_review_date_a_year_on_rolls_off_a_saturday(school: School_) -> None:
    school.now = NOW
    school.says("sam", *MATHS_APP, "yes")
    school.now = datetime(2026, 11, 27, 10, 0, tzinfo=NOW.tzinfo)  # a Friday; 27/11/2027 a Saturday
    said = school.says("dee", f"approve with conditions {SOFTWARE}", "First names only",
                       "done", "DPIA-2, 20 November 2026", "yes")  # the screening requires one
    assert "to be reviewed by Monday 29 November 2027" in said, said
    assert products(school)[0].review_on == date(2027, 11, 29)


def test_no_one_is_told_of_what_they_just_did(school: School_) -> None:
    # The DPO's own breach, request, software approval and consent withdrawal: the deputy
    # is told of each; the DPO of none.
    school.says("dee", "report a breach", *WRONG_PARENT)
    school.says("dee", f"not reportable {BREACH}", "Recalled unread within a minute.", "yes")
    school.says("dee", "I need to log a subject access request", "1", "Jane Parent", "parent",
                "no", "Tom Parent", "jane@example.org", "skip", "skip", "email",
                "yesterday 14:00", "All behaviour records", "no", "yes")
    school.says("dee", "take SAR-2026-0001", "yes")
    school.says("dee", *MATHS_APP, "yes")
    school.says("dee", f"reject {SOFTWARE}", "No data processing agreement.", "yes")
    run_import(school, export("sims"))
    school.says("dee", "Amelia Smith's mum withdrew consent for the website")
    assert notes(school, "dee") == []
    told = notes(school, "vic")
    for kind in ("breach.new", "breach.decided", "sar.new", "software.new",
                 "consent.withdrawn"):
        assert kind in told, (kind, told)
    # A deputy deciding the DPO's case still tells the DPO.
    school.says("sam", "report a breach", *WRONG_PARENT)
    school.says("vic", "not reportable BRE-2026-0002", "Recalled unread.", "yes")
    assert "breach.decided" in notes(school, "dee") and notes(school, "vic").count(
        "breach.decided") == 1
