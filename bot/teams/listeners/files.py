"""Files in Teams (a letter's Word copy, the governors' report): a bot in a personal chat
sends a file only with the person's consent (a FileConsentCard). On “Allow” Teams gives an
upload address in their OneDrive; the file is made there (``workflows.documents.files``:
checked and audited as when first asked for), uploaded, and shown as a file card. Nothing of
the file rides in the consent card: only what makes it (a reference and a letter's kind, a
term)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from microsoft_agents.activity import Activity, ActivityTypes, Attachment, InvokeResponse
from microsoft_agents.hosting.core import TurnContext, TurnState

from bot.teams import cards
from bot.teams.turns import card_activity, personal
from bot.teams.work import Offer
from workflows.core import faults
from workflows.core.ui import Text
from workflows.core.wording import render

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

# Where Teams asks a bot to upload: the person's OneDrive, on SharePoint. The address comes in
# the invoke; a letter is never PUT anywhere else (an altered client could name any host).
ONEDRIVE = re.compile(r"^https://[a-z0-9-]+\.sharepoint\.com/", re.IGNORECASE)
CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


def consent_card(offer: Offer) -> Activity:
    """The FileConsentCard asking to send one file (``bot.teams.work.offers``)."""
    return Activity(type=ActivityTypes.message, summary=offer.title, attachments=[
        Attachment(content_type=CONSENT, name=offer.name, content=offer.content)])


def register(bot: TeamsBot) -> None:
    @bot.app.invoke("fileConsent/invoke")
    async def file_consent(context: TurnContext, state: TurnState) -> None:
        value = context.activity.value if isinstance(context.activity.value, dict) else {}
        if personal(context) and value.get("action") == "accept":
            await _upload(bot, context, value)
        await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                             value=InvokeResponse(status=200)))


async def _upload(bot: TeamsBot, context: TurnContext, value: Mapping[str, Any]) -> None:
    """Make the accepted file and put it where Teams said; a failure is said."""
    given = value.get("context")
    asked: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    try:
        upload = value["uploadInfo"]
        target = str(upload["uploadUrl"])
        if not ONEDRIVE.match(target):
            raise ValueError(urlsplit(target).hostname)  # the host only: never the path
        maker, parts = str(asked["maker"]), tuple(asked["asked"])
        # Imported on the first file: python-docx and lxml are 7 MB of a small school's
        # process, which most days makes none.
        from workflows.documents.files import make as made

        content = await bot.run(context, made, maker, parts, school_id=int(asked["school"]))
        async with aiohttp.ClientSession() as session, session.put(target, data=content, headers={
                "Content-Length": str(len(content)),
                "Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}"}) as response:
            response.raise_for_status()
    except Exception as error:
        log.warning("could not upload a file to Teams: %s", faults.brief(error))
        await context.send_activity(card_activity(cards.message_card([Text(render(
            "messages/file_not_sent.txt.j2", maker=asked.get("maker")), "warning")])))
        return
    await context.send_activity(Activity(type=ActivityTypes.message, attachments=[Attachment(
        content_type=FILE_INFO, name=str(upload.get("name") or ""),
        content_url=str(upload.get("contentUrl") or ""),
        content={"uniqueId": upload.get("uniqueId"), "fileType": upload.get("fileType")})]))
