"""A letter drafted in the DPO's DM also arrives there as a Word document, and the governors'
report as a PDF: files_upload_v2 against the fake Slack Web API (its upload URL too), read back
with python-docx and pypdf."""

# ruff: noqa: F811  (the ``ws`` fixture is imported, then asked for by name)
from __future__ import annotations

import io
import re

import docx
from pypdf import PdfReader
from sqlmodel import select

from tests.conftest import PARENT_SAR
from tests.slack.fake_slack import dm_channel_id
from tests.slack.reading import words
from tests.slack.test_slack_app import (  # noqa: F401  (fixtures used by name)
    DPO,
    STAFF,
    Workspace,
    _no_slack_env,
    check_every_call,
    fake,
    ws,
)
from workflows.audit.models import AuditEvent
from workflows.database import session_scope


def test_a_letter_in_the_dm_comes_with_its_word_document(ws: Workspace) -> None:
    for n, line in enumerate((*PARENT_SAR, "yes"), 1):
        ws.live.send(ws.slack.message_im(line, user_id=STAFF))
        ws.fake.wait_for("chat.postMessage", n)
    (case,) = ws.cases()

    ws.live.send(ws.slack.message_im(f"letter {case.reference} acknowledgement", user_id=DPO))
    (completed,) = ws.fake.wait_for("files.completeUploadExternal")
    shown = ws.fake.calls("chat.postMessage")[-1]
    assert shown.args["channel"] == dm_channel_id(DPO)
    assert "Dear Jane Parent," in words(shown.args["blocks"])
    # Only into the DPO's own DM with the bot, named after the letter, and nothing shared.
    (asked,) = ws.fake.calls("files.getUploadURLExternal")
    assert asked.args["filename"] == f"acknowledgement-{case.reference.lower()}.docx"
    assert completed.args["channel_id"] == dm_channel_id(DPO)
    assert completed.response["ok"] is True
    (stored,) = ws.fake.files.values()
    assert stored["channel"] == dm_channel_id(DPO)
    assert stored["title"] == f"Acknowledgement — {case.reference}"
    paragraphs = [p.text for p in docx.Document(io.BytesIO(stored["content"])).paragraphs]
    assert paragraphs[0] == "Hillside Primary"
    assert "Dear Jane Parent," in paragraphs
    assert f"Our reference: {case.reference}" in paragraphs

    # A digest or a case card is no letter: no file with it.
    ws.live.send(ws.slack.message_im(case.reference, user_id=DPO))
    ws.live.send(ws.slack.message_im("digest", user_id=DPO))
    ws.live.settle()
    assert ws.fake.count("files.getUploadURLExternal") == 1
    check_every_call(ws.fake)


def test_a_failed_upload_leaves_the_letter_and_says_so(ws: Workspace) -> None:
    for n, line in enumerate((*PARENT_SAR, "yes"), 1):
        ws.live.send(ws.slack.message_im(line, user_id=STAFF))
        ws.fake.wait_for("chat.postMessage", n)
    (case,) = ws.cases()
    # An app installed before files:write was in the manifest.
    ws.allowed_errors = {"missing_scope"}
    ws.fake.fail("files.getUploadURLExternal", "missing_scope")
    before = ws.fake.count("chat.postMessage")
    ws.live.send(ws.slack.message_im(f"letter {case.reference} acknowledgement", user_id=DPO))
    posted = ws.fake.wait_for("chat.postMessage", before + 2)
    assert "Dear Jane Parent," in words(posted[-2].args["blocks"])
    assert posted[-1].args["text"].startswith("The letter above could not also be sent as a "
                                              "Word document")
    assert posted[-1].args["channel"] == DPO  # their DM with the bot, which Slack opens by it
    assert posted[-1].response["channel"] == dm_channel_id(DPO)
    assert not ws.fake.calls("files.completeUploadExternal")


def test_a_letter_asked_for_with_dpo_in_a_channel_sends_its_file_to_the_dm(
        ws: Workspace) -> None:
    reference = ws.log_sar(STAFF)
    ws.fake.clear()
    ws.live.send(ws.slack.slash_command("/dpo", f"letter {reference} acknowledgement",
                                        user_id=DPO, channel_id="C0GENERAL"))
    (completed,) = ws.fake.wait_for("files.completeUploadExternal")
    # The letter itself only to the asker in the channel; the file in their DM, never the channel.
    (shown,) = ws.fake.calls("response_url")
    assert shown.args["response_type"] == "ephemeral"
    assert "Dear Jane Parent," in words(shown.args["blocks"])
    (said,) = ws.fake.calls("chat.postMessage")
    assert said.args["channel"] == DPO
    assert said.args["text"] == f"Acknowledgement — {reference}, as a Word document:"
    assert completed.args["channel_id"] == dm_channel_id(DPO)
    (stored,) = ws.fake.files.values()
    assert "Dear Jane Parent," in [p.text for p in docx.Document(
        io.BytesIO(stored["content"])).paragraphs]
    assert not [c for c in ws.fake.calls() if c.args.get("channel") == "C0GENERAL"
                or c.args.get("channel_id") == "C0GENERAL"]


def test_the_governors_report_comes_to_the_dm_as_a_pdf_and_staff_get_none(
        ws: Workspace) -> None:
    reference = ws.log_sar(STAFF)
    ws.fake.clear()
    ws.live.send(ws.slack.message_im("report", user_id=DPO))  # the term we are in
    (completed,) = ws.fake.wait_for("files.completeUploadExternal")
    (shown,) = ws.fake.calls("chat.postMessage")
    assert shown.args["channel"] == dm_channel_id(DPO)
    assert "follows as a PDF, for you alone" in words(shown.args["blocks"])
    (asked,) = ws.fake.calls("files.getUploadURLExternal")
    assert re.fullmatch(r"governors-report-(spring|summer|autumn)-\d{4}\.pdf",
                        asked.args["filename"]), asked.args
    assert completed.args["channel_id"] == dm_channel_id(DPO)
    (stored,) = ws.fake.files.values()
    assert stored["channel"] == dm_channel_id(DPO)
    assert stored["title"].startswith("Governors' report — ")
    reader = PdfReader(io.BytesIO(stored["content"]))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Hillside Primary" in text and reference in text
    assert "Jane Parent" not in text
    assert any(page.images for page in reader.pages)  # the charts

    # Staff are refused, and nothing is made or uploaded for them.
    ws.fake.clear()
    ws.live.send(ws.slack.message_im("report", user_id=STAFF))
    (refused,) = ws.fake.wait_for("chat.postMessage")
    assert "for the DPO, deputies, the head and governors" in words(refused.args["blocks"])
    ws.live.settle()
    assert not ws.fake.calls("files.getUploadURLExternal")
    with session_scope(ws.engine) as session:
        made = session.exec(select(AuditEvent).where(
            AuditEvent.action == "report.governors")).all()
        assert [(e.actor_name, e.detail["file"]) for e in made] == [("Dee Dpo", "pdf")]
    check_every_call(ws.fake)
