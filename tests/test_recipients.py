"""The role answers every adapter asks (``workflows.core.recipients``): who decides, who is
shown a case's buttons, what a notification carries for whom."""

from __future__ import annotations

from sqlmodel import col, select

from tests.conftest import PARENT_SAR, School_
from workflows.audit.models import AuditEvent
from workflows.core import recipients
from workflows.core.ui import Button, Card, Text
from workflows.database import saved_id, session_scope
from workflows.notifications import addresses, outbox
from workflows.notifications.addresses import ChatAddress
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.registry import WORKFLOWS


def _logged(school: School_) -> str:
    """A SAR logged by a teacher; its reference."""
    text = school.says("sam", *PARENT_SAR, "yes")
    return next(word.strip(".") for word in text.split() if word.startswith("SAR-"))


def _views(session, reference: str) -> int:
    return len(session.exec(select(AuditEvent).where(
        AuditEvent.action == "sar.viewed", AuditEvent.subject_ref == reference)).all())


def test_the_deciders_are_the_active_dpo_and_deputies_only(school: School_) -> None:
    with session_scope(school.engine) as session:
        names = [p.name for p in recipients.deciders(session, school.school_id)]
        assert names == ["Dee Dpo", "Vic Deputy"]  # never the head, never staff
        session.get(Person, school.people["vic"]).active = False
    with session_scope(school.engine) as session:
        assert [p.name for p in recipients.deciders(session, school.school_id)] == ["Dee Dpo"]
        dee = session.get(Person, school.people["dee"])
        assert recipients.told_unreachable(session, dee) == []  # nobody else to tell


def test_a_case_s_buttons_reach_the_deciders_and_whoever_the_core_gave_buttons(
        school: School_) -> None:
    take = Button("take", "Take", "take SAR-2026-0001", "SAR-2026-0001")
    with_buttons = Card("SAR", "SAR-2026-0001", "Open", (), buttons=(take,))
    without = Card("SAR", "SAR-2026-0001", "Open", ())
    with session_scope(school.engine) as session:
        ctx = school.context(session, "hal")
        assert [p.name for p in recipients.button_holders(ctx, [without])] == [
            "Dee Dpo", "Vic Deputy"]
        assert [p.name for p in recipients.button_holders(ctx, [Text("hi"), with_buttons])] == [
            "Dee Dpo", "Vic Deputy", "Hal Head"]


def test_a_notification_carries_the_case_only_for_a_decider(school: School_) -> None:
    reference = _logged(school)
    workflow = WORKFLOWS["sar"]
    with session_scope(school.engine) as session:
        note = session.exec(select(Notification).where(
            Notification.person_id == school.people["dee"],
            col(Notification.kind).endswith(".new"))).one()
        dee, sam = (session.get(Person, school.people[n]) for n in ("dee", "sam"))
        assert recipients.shared_with_team(dee, note)
        assert not recipients.shared_with_team(sam, note)
        assert not recipients.alerts_channel(note, workflow)  # a SAR declares no channel alert
        assert recipients.alerts_channel(note, WORKFLOWS["breach"])

        before = _views(session, reference)
        whole = recipients.carried(school.context(session, "dee"), note, workflow)
        assert [type(r) for r in whole] == [Text, Card] and whole[1].rows
        assert _views(session, reference) == before + 1  # a person's copy is an audited read

        shared = recipients.carried(school.context(session, "dee"), note, workflow, shared=True)
        assert shared[1].rows == () and shared[1].reference == reference
        assert _views(session, reference) == before + 1  # no details, nothing read

        # The same news for a member of staff: the words alone, however it is addressed.
        assert [type(r) for r in recipients.carried(
            school.context(session, "sam"), note, workflow)] == [Text]


def test_one_claim_for_every_adapter_reads_each_notification_as_its_recipient(
        school: School_) -> None:
    """``outbox.claim``: Slack and Teams lease the same way; a second sender gets nothing."""
    reference = _logged(school)
    dee, vic = school.people["dee"], school.people["vic"]
    both = select(Person.id).where(col(Person.id).in_([dee, vic]))
    with session_scope(school.engine) as session:
        claimed = outbox.claim(session, both, "first", adapter="slack", served=(1,),
                               now=school.now)
        assert sorted(c.person.name for c in claimed) == ["Dee Dpo", "Vic Deputy"]
        for one in claimed:
            assert one.ctx.person is one.person and one.ctx.school_id == school.school_id
            assert (one.ctx.adapter, one.ctx.served) == ("slack", ())  # one school: no label
            assert one.workflow is WORKFLOWS["sar"] and one.note.subject_ref == reference
            assert [type(r) for r in one.replies()] == [Text, Card]  # a decider sees the case
        assert outbox.claim(session, both, "second", adapter="teams", served=(),
                            now=school.now) == []  # leased to the first sender


def test_a_claim_through_chat_addresses_takes_only_those_the_platform_can_reach_now(
        school: School_) -> None:
    """``outbox.claim`` through ``addresses.reachable``: joined on the platform's reachable
    addresses at the served schools, in the database; a second sender gets nothing."""
    _logged(school)
    dee, vic = school.people["dee"], school.people["vic"]
    with session_scope(school.engine) as session:
        addresses.remember(session, school.school_id, dee, "teams", {"to": "dee"})
        addresses.remember(session, school.school_id, vic, "teams", {"to": "vic"})
        addresses.remember(session, school.school_id, school.people["hal"], "google_chat",
                           {"space": "spaces/hal"})
        vics = session.exec(select(ChatAddress).where(ChatAddress.person_id == vic)).one()
        assert addresses.mark_unreachable(session, saved_id(vics), school.now)
        session.commit()
        served = (school.school_id,)
        elsewhere = (school.school_id + 1,)
        assert outbox.claim(session, addresses.reachable(session, "teams", elsewhere), "elsewhere",
                            adapter="teams", served=elsewhere, now=school.now) == []
        claimed = outbox.claim(session, addresses.reachable(session, "teams", served), "first",
                               adapter="teams", served=served, now=school.now)
        assert [c.person.name for c in claimed] == ["Dee Dpo"]  # Vic can't be reached
        assert claimed[0].ctx.adapter == "teams"
        assert addresses.of_people(session, [dee, vic], "teams").keys() == {dee, vic}
        assert outbox.claim(session, addresses.reachable(session, "teams", served), "second",
                            adapter="teams", served=served,
                            now=school.now) == []  # leased to the first sender
