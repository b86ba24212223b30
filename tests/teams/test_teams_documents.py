"""A letter drafted in the Teams personal chat, and the governors' report, come with a
FileConsentCard; on “Allow” the file is made again (the report only then), PUT to the upload
address Teams gives (here a local server standing in for OneDrive) and shown as a file card.
Read back with python-docx and pypdf."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import docx
import pytest
from microsoft_agents.activity import Activity, ActivityTypes
from pypdf import PdfReader
from sqlmodel import select

from bot.teams.listeners import files
from bot.teams.listeners.files import CONSENT, FILE_INFO
from tests.conftest import School_
from workflows.audit.models import AuditEvent
from workflows.database import session_scope
from workflows.people.models import Person, Role

from .harness import Teams, log_sar, make_teams, run, words


class OneDrive:
    """Where Teams tells a bot to upload a file the person allowed: records each PUT."""

    def __init__(self) -> None:
        self.puts: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 201
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.puts.append((self.path, dict(self.headers.items()), body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def onedrive(monkeypatch: pytest.MonkeyPatch) -> Iterator[OneDrive]:
    """The local server, let in as OneDrive is (the one host a letter may be PUT to)."""
    drive = OneDrive()
    monkeypatch.setattr(files, "ONEDRIVE", re.compile(re.escape(drive.url("/"))))
    yield drive
    drive.close()


async def consent_for_letter(teams: Teams, reference: str) -> tuple[dict[str, Any], Activity]:
    adapter = teams.adapter("dee")
    before = len(adapter.activity_queue)
    card = await teams.say("dee", f"letter {reference} acknowledgement")
    (offer,) = [a for a in adapter.activity_queue[before:]
                if a.attachments and a.attachments[0].content_type == CONSENT]
    return card, offer


async def answer_consent(teams: Teams, offer: Activity, action: str,
                         upload: dict[str, Any] | None = None, who: str = "dee"
                         ) -> list[Activity]:
    consent = offer.attachments[0]
    value: dict[str, Any] = {"type": "fileUpload", "action": action,
                             "context": consent.content["acceptContext"]}
    if upload is not None:
        value["uploadInfo"] = upload
    return await teams.send(teams.adapter(who), Activity(
        type=ActivityTypes.invoke, name="fileConsent/invoke", value=value,
        from_property=teams.account(who)))


def offers(adapter: Any, before: int) -> list[Activity]:
    return [a for a in adapter.activity_queue[before:]
            if a.attachments and a.attachments[0].content_type == CONSENT]


def upload_info(drive: OneDrive, name: str) -> dict[str, Any]:
    return {"name": name, "uploadUrl": drive.url("/upload/session-1"),
            "contentUrl": "https://school-my.sharepoint.com/personal/dee/Documents/" + name,
            "uniqueId": "ABC-123", "fileType": "docx"}


def test_a_letter_in_teams_comes_as_a_word_document_when_allowed(
        school: School_, onedrive: OneDrive) -> None:
    teams = make_teams(school)
    reference = run(log_sar(teams))
    card, offer = run(consent_for_letter(teams, reference))
    assert "Dear Jane Parent," in words(card)
    consent = offer.attachments[0]
    name = f"acknowledgement-{reference.lower()}.docx"
    assert consent.name == name
    assert consent.content["description"] == f"Acknowledgement — {reference}"
    assert consent.content["sizeInBytes"] > 1000
    # Only the reference travels with the card, never the letter's words.
    assert consent.content["acceptContext"] == {
        "maker": "letter", "asked": [reference, "acknowledgement"], "school": school.school_id}

    sent = run(answer_consent(teams, offer, "accept", upload_info(onedrive, name)))
    (response,) = [a for a in sent if a.type == ActivityTypes.invoke_response]
    assert response.value.status == 200
    ((path, headers, body),) = onedrive.puts
    assert path == "/upload/session-1"
    assert headers["Content-Range"] == f"bytes 0-{len(body) - 1}/{len(body)}"
    paragraphs = [p.text for p in docx.Document(io.BytesIO(body)).paragraphs]
    assert paragraphs[0] == "Hillside Primary" and "Dear Jane Parent," in paragraphs
    assert f"Our reference: {reference}" in paragraphs
    (shown,) = [a for a in sent if a.type == ActivityTypes.message]
    (file_card,) = shown.attachments
    assert (file_card.content_type, file_card.name) == (FILE_INFO, name)
    assert file_card.content == {"uniqueId": "ABC-123", "fileType": "docx"}
    # Drafted again for the file, so audited again.
    with session_scope(school.engine) as session:
        drafted = session.exec(select(AuditEvent).where(
            AuditEvent.action == "sar.letter_drafted")).all()
    assert len(drafted) == 2


def test_a_declined_or_failed_upload_sends_nothing_and_says_so(
        school: School_, onedrive: OneDrive) -> None:
    teams = make_teams(school)
    reference = run(log_sar(teams))
    _, offer = run(consent_for_letter(teams, reference))
    sent = run(answer_consent(teams, offer, "decline"))
    assert [a.type for a in sent] == [ActivityTypes.invoke_response]
    assert onedrive.puts == []

    onedrive.status = 500
    sent = run(answer_consent(teams, offer, "accept", upload_info(onedrive, "x.docx")))
    assert [a.type for a in sent] == [ActivityTypes.message, ActivityTypes.invoke_response]
    assert words(sent[0].attachments[0].content).startswith(
        "The letter above could not also be sent as a Word document")


def test_staff_get_no_file_offer(school: School_) -> None:
    teams = make_teams(school)
    reference = run(log_sar(teams))
    adapter = teams.adapter("sam")
    before = len(adapter.activity_queue)
    card = run(teams.say("sam", f"letter {reference} acknowledgement"))
    assert "Only the DPO or a deputy can draft letters." in words(card)
    assert not [a for a in adapter.activity_queue[before:]
                if a.attachments and a.attachments[0].content_type == CONSENT]


def test_a_letter_is_put_only_on_sharepoint(school: School_) -> None:
    drive = OneDrive()  # not let in: an address an altered client might send
    try:
        teams = make_teams(school)
        reference = run(log_sar(teams))
        _, offer = run(consent_for_letter(teams, reference))
        sent = run(answer_consent(teams, offer, "accept", upload_info(drive, "x.docx")))
        assert drive.puts == []
        assert words(sent[0].attachments[0].content).startswith(
            "The letter above could not also be sent as a Word document")
    finally:
        drive.close()
    assert files.ONEDRIVE.match("https://oakwood-my.sharepoint.com/personal/dee/x")
    assert not files.ONEDRIVE.match("https://oakwood-my.sharepoint.com.evil.example/x")


def test_the_governors_report_in_teams_is_made_when_allowed_and_checked_again(
        school: School_, onedrive: OneDrive) -> None:
    teams = make_teams(school)
    reference = run(log_sar(teams))
    adapter = teams.adapter("hal")  # the head
    before = len(adapter.activity_queue)
    card = run(teams.say("hal", "report autumn-2026"))
    assert "follows as a PDF, for you alone" in words(card)
    (offer,) = offers(adapter, before)
    consent = offer.attachments[0]
    name = "governors-report-autumn-2026.pdf"
    assert consent.name == name
    assert consent.content["description"] == "Governors' report — Autumn term 2026"
    assert consent.content["acceptContext"] == {
        "maker": "report", "asked": ["autumn", "2026"], "school": school.school_id}

    def made() -> list[str | None]:
        with session_scope(school.engine) as session:
            return [e.actor_name for e in session.exec(select(AuditEvent).where(
                AuditEvent.action == "report.governors")).all()]

    assert made() == []  # offered, not yet made
    sent = run(answer_consent(teams, offer, "accept", {**upload_info(onedrive, name),
                                                       "fileType": "pdf"}, who="hal"))
    ((_, headers, body),) = onedrive.puts
    assert headers["Content-Range"] == f"bytes 0-{len(body) - 1}/{len(body)}"
    reader = PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Autumn term 2026" in text and reference in text and "Jane Parent" not in text
    (shown,) = [a for a in sent if a.type == ActivityTypes.message]
    assert (shown.attachments[0].content_type, shown.attachments[0].name) == (FILE_INFO, name)
    assert made() == ["Hal Head"]

    # No longer the head when they allow it again: nothing is made or put, and they are told.
    with session_scope(school.engine) as session:
        session.get(Person, school.people["hal"]).role = Role.STAFF
    sent = run(answer_consent(teams, offer, "accept", upload_info(onedrive, name), who="hal"))
    assert len(onedrive.puts) == 1 and made() == ["Hal Head"]
    assert words(sent[0].attachments[0].content).startswith(
        "The governors' report could not be sent as a file just now.")


def test_staff_asking_for_the_report_in_teams_are_refused_and_offered_nothing(
        school: School_) -> None:
    teams = make_teams(school)
    adapter = teams.adapter("sam")
    before = len(adapter.activity_queue)
    card = run(teams.say("sam", "report autumn-2026"))
    assert "for the DPO, deputies, the head and governors" in words(card)
    assert offers(adapter, before) == []
