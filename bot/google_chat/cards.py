"""The neutral UI model as Google Chat Cards v2: messages, dialogs built from declarations,
cases with their decision buttons.

Card text (``textParagraph``, ``decoratedText``) is read as Chat's small HTML, so every
string from the core (which may hold what someone typed) is HTML-escaped and stripped of
bidirectional controls: it can never become formatting or a link. A message's own ``text``
(what a notification shows) is only ever the core's headline, which holds no personal data,
and is neutralised for Chat's markdown all the same (``plain``). Buttons carry the
reference, the version the person saw and the case's school, as Slack's button value does,
so a stale or double click changes nothing. The words are the templates'; here they are only
laid out. Limits: https://developers.google.com/workspace/chat/api/reference/rest/v1/cards
(100 widgets a card, 32 KB a card).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.labels import fixed, label
from workflows.core import headline
from workflows.core.bidi import neutral
from workflows.core.context import Context
from workflows.core.engine import Target
from workflows.core.fields import UNKNOWN, Field, Form, Kind
from workflows.core.ui import (
    Button,
    Card,
    Document,
    File,
    Question,
    Reply,
    Summary,
    Table,
    Text,
)
from workflows.core.wording import render
from workflows.registry import by_prefix

MAX_WIDGETS = 100
PEOPLE = 100  # Google's limit on a selection input's items: beyond, a form asks for a name
CARD_BYTES = 30_000  # Google's limit is 32 KB a card; the message around it needs room
TEXT_LIMIT = 4_000  # one paragraph: a long letter is split into several
COLOR = {"info": None, "success": "#188038", "warning": "#b06000", "error": "#d93025"}
# Functions the buttons name, read back by bot.google_chat.events.
ACT, DECIDE, FORM, INTAKE, CONFIRM, EDIT, CLOSE = (
    "act", "decide", "form", "intake", "confirm", "edit", "close")
INPUT = "field_"  # widget names: a prefix keeps field names apart from anything else


def escape(text: str) -> str:
    """User text for a card's HTML: shown as typed, never formatting or a link."""
    return html.escape(neutral(text), quote=False).replace("\n", "<br>")


# Chat's markdown in a message's text: *bold*, _italic_, ~strike~, `code`, <url|link>,
# <users/…> mentions. A zero-width space after each marker keeps it from pairing, and angle
# brackets become look-alikes, so no link or mention can be made.
_MARKDOWN = str.maketrans({"*": "*\u200b", "_": "_\u200b", "~": "~\u200b", "`": "`\u200b",
                           "<": "‹", ">": "›"})


def plain(text: str) -> str:
    return neutral(text).translate(_MARKDOWN)[:4_000]


def paragraph(text: str, *, tone: str = "info", bold: bool = False,
              subtle: bool = False) -> dict[str, Any]:
    shown = escape(text[:TEXT_LIMIT])
    if bold:
        shown = f"<b>{shown}</b>"
    colour = "#5f6368" if subtle else COLOR.get(tone)
    if colour:
        shown = f'<font color="{colour}">{shown}</font>'
    return {"textParagraph": {"text": shown}}


def labelled(name: str, value: str) -> dict[str, Any]:
    return {"decoratedText": {"topLabel": escape(name[:200]), "text": escape(value[:TEXT_LIMIT]),
                              "wrapText": True}}


def parameters(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """A button's data as Chat carries it: strings only."""
    return [{"key": key, "value": str(value)} for key, value in data.items()]


def button(text: str, function: str, data: Mapping[str, Any], *, dialog: bool = False,
           filled: bool = False, required: Sequence[str] = ()) -> dict[str, Any]:
    action: dict[str, Any] = {"function": function, "parameters": parameters(data)}
    if dialog:
        action["interaction"] = "OPEN_DIALOG"
    if required:
        action["requiredWidgets"] = list(required)
    shown: dict[str, Any] = {"text": text[:100], "onClick": {"action": action}}
    if filled:
        shown["type"] = "FILLED"
    return shown


def buttons(*items: dict[str, Any]) -> dict[str, Any]:
    return {"buttonList": {"buttons": list(items)}}


def card(widgets: list[dict[str, Any]], *, title: str | None = None) -> dict[str, Any]:
    """A card of ``widgets``, cut to Google's limits with a note that it was shortened."""
    body: dict[str, Any] = {"sections": [{"widgets": widgets or [paragraph(" ")]}]}
    if title:
        body["header"] = {"title": escape(title[:200])}
    note = paragraph(render("messages/shortened.txt.j2", platform="Google Chat"), subtle=True)
    kept = list(body["sections"][0]["widgets"])
    if len(kept) > MAX_WIDGETS:
        kept = kept[:MAX_WIDGETS - 1] + [note]
    while len(kept) > 1 and _size({**body, "sections": [{"widgets": kept}]}) > CARD_BYTES:
        kept = kept[:-2] + [note]
    body["sections"] = [{"widgets": kept}]
    return body


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def message(body: dict[str, Any], summary: str | None, card_id: str = "reply"
            ) -> dict[str, Any]:
    """A Chat message holding one card; ``summary`` is what a notification shows."""
    return {"text": plain(summary or headline.of_replies([])),
            "cardsV2": [{"cardId": card_id, "card": body}]}


# Replies


def reply_widgets(reply: Reply) -> list[dict[str, Any]]:
    if isinstance(reply, Text):
        return [paragraph(reply.text, tone=reply.tone)]
    if isinstance(reply, Question):
        widgets = [paragraph(reply.prompt, bold=True)]
        widgets += [paragraph(f"{i}. {o.label}") for i, o in enumerate(reply.options, 1)]
        if reply.current is not None:
            widgets.append(paragraph(render("messages/forms/currently.txt.j2",
                                            current=reply.current), subtle=True))
        widgets.append(paragraph(render("messages/forms/question_hint.txt.j2", step=reply.step,
                                        total=reply.total, optional=reply.optional),
                                 subtle=True))
        return widgets
    if isinstance(reply, Summary):
        widgets = [paragraph(reply.title, bold=True),
                   *(labelled(name, value) for name, value in reply.rows)]
        widgets += [paragraph(note) for note in reply.notes]
        widgets.append(paragraph(render("messages/forms/summary_hint.txt.j2",
                                        rows=bool(reply.rows)), subtle=True))
        return widgets
    if isinstance(reply, Card):
        return case_widgets(reply)
    if isinstance(reply, Table):
        if not reply.rows:
            return [paragraph(f"{reply.title}: {reply.empty}")]
        return [paragraph(reply.title, bold=True),
                *(paragraph("• " + " · ".join(cell for cell in row if cell))
                  for row in reply.rows)]
    if isinstance(reply, Document):
        return [paragraph(reply.title, bold=True),
                *(paragraph(reply.body[i:i + TEXT_LIMIT])
                  for i in range(0, max(len(reply.body), 1), TEXT_LIMIT))]
    if isinstance(reply, File):
        # An app cannot upload an attachment as itself (the Chat API's media upload takes a
        # user's authorisation): the person is told where to get the file instead.
        return reply_widgets(Text(reply.elsewhere))
    raise TypeError(f"cannot render {type(reply).__name__}")  # pragma: no cover


def message_card(replies: Sequence[Reply], *, summary: str | None = None) -> dict[str, Any]:
    """One message holding a turn's replies."""
    widgets = [w for reply in replies for w in reply_widgets(reply)]
    return message(card(widgets), summary or headline.of_replies(replies))


def case_widgets(c: Card, *,
                 footer: str | None = None, with_buttons: bool = True
                 ) -> list[dict[str, Any]]:
    widgets = [paragraph(f"{c.reference} · {c.title}", bold=True),
               labelled(label("status"), c.status)]
    widgets += [labelled(name, value) for name, value in c.rows]
    if c.deadline:
        widgets.append(paragraph(c.deadline, tone="warning"))
    if footer or c.footer:
        widgets.append(paragraph(footer or c.footer or "", subtle=True))
    if with_buttons and c.buttons:
        widgets.append(buttons(*(case_button(b) for b in c.buttons)))
    return widgets


def case_button(b: Button) -> dict[str, Any]:
    return button(b.label, ACT, {"action": b.action, "value": b.value},
                  dialog=opens_dialog(b.action, b.value), filled=b.style == "primary")


def opens_dialog(action: str, value: str) -> bool:
    """Whether a case's button asks something first (a reason, "are you sure?"): Chat must
    be told on the button itself, to send a dialog request rather than a click."""
    workflow = by_prefix(Target.parse(value).reference.split("-", 1)[0])
    if workflow is None:
        return False
    declared = workflow.action(action)
    return bool(declared.form.fields or declared.confirm)


def case_message(c: Card, *, notice: Text | None = None, footer: str | None = None,
                 with_buttons: bool = True) -> dict[str, Any]:
    widgets = reply_widgets(notice) if notice else []
    widgets += case_widgets(c, footer=footer, with_buttons=with_buttons)
    return message(card(widgets), headline.of_replies([c]), card_id="case")


def start_card(text_replies: Sequence[Reply], starts: Sequence[tuple[str, str]]
               ) -> dict[str, Any]:
    """Help, with a button per workflow this person may start as a form (a dialog)."""
    widgets = [w for reply in text_replies for w in reply_widgets(reply)]
    if starts:
        widgets.append(buttons(*(
            button(render("messages/forms/start_button.txt.j2", title=title), FORM,
                   {"workflow": name}, dialog=True) for name, title in starts)))
    return message(card(widgets), headline.of_replies(text_replies))


# Dialogs


def dialog(body: dict[str, Any]) -> dict[str, Any]:
    return {"actionResponse": {"type": "DIALOG", "dialogAction": {"dialog": {"body": body}}}}


def close_dialog(said: str | None = None, status: str = "OK") -> dict[str, Any]:
    """Closes the dialog; ``said`` is shown briefly to the person alone."""
    action_status: dict[str, Any] = {"statusCode": status}
    if said:
        action_status["userFacingMessage"] = neutral(said)[:200]
    return {"actionResponse": {"type": "DIALOG",
                               "dialogAction": {"actionStatus": action_status}}}


def update_message(shown: dict[str, Any]) -> dict[str, Any]:
    return {"actionResponse": {"type": "UPDATE_MESSAGE"}, **shown}


def new_message(shown: dict[str, Any]) -> dict[str, Any]:
    return {"actionResponse": {"type": "NEW_MESSAGE"}, **shown}


def notice_dialog(text: str, tone: str = "error") -> dict[str, Any]:
    return dialog(card([paragraph(text, tone=tone),
                        buttons(button(label("close"), CLOSE, {}))]))


def _at(data: dict[str, Any], school_id: int | None) -> dict[str, Any]:
    """What a button sends back, with the school it acts at (references repeat)."""
    return data if school_id is None else {**data, "school": school_id}


def intake_form(workflow: str, title: str, form: Form, tz: ZoneInfo,
                raw: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None,
                note: str | None = None, *, about: str | None = None,
                school_id: int | None = None) -> dict[str, Any]:
    """A new case as a dialog: ``note`` is why it came back, ``about`` which school it is
    for, saved at ``school_id`` whatever the person chooses meanwhile."""
    widgets = [paragraph(title, bold=True)]
    if about:
        widgets.append(paragraph(about, subtle=True))
    if note:
        widgets.append(paragraph(note, tone="error"))
    if errors:
        widgets.append(paragraph(fixed("messages/forms/correct_below.txt.j2"), tone="error"))
    widgets += form_widgets(form, tz, raw or {}, errors or {})
    widgets.append(buttons(button(label("next"), INTAKE, _at({"workflow": workflow}, school_id),
                                  filled=True, required=required(form))))
    return dialog(card(widgets))


def decision_form(c: Card, action_label: str, action: str, value: str, form: Form,
                  confirm: str | None, tz: ZoneInfo, raw: Mapping[str, str] | None = None,
                  errors: Mapping[str, str] | None = None, note: str | None = None
                  ) -> dict[str, Any]:
    """The questions of a decision (a reason, a date), or its "are you sure?", as a dialog."""
    widgets = [paragraph(f"{action_label} — {c.reference}", bold=True)]
    if note:
        widgets.append(paragraph(note, tone="error"))
    if confirm:
        widgets.append(paragraph(confirm, tone="warning"))
    widgets += form_widgets(form, tz, raw or {}, errors or {})
    widgets.append(buttons(
        button(label("save") if form.fields else action_label, DECIDE,
               {"action": action, "value": value}, filled=True, required=required(form)),
        button(label("not_now"), CLOSE, {})))
    return dialog(card(widgets))


def summary_form(summary: Summary, workflow: str, conversation_id: int,
                 school_id: int | None = None) -> dict[str, Any]:
    widgets = [paragraph(summary.title, bold=True),
               *(labelled(name, value) for name, value in summary.rows)]
    widgets += [paragraph(note) for note in summary.notes]
    widgets.append(paragraph(fixed("messages/forms/saved_on_save.txt.j2"), subtle=True))
    data = _at({"workflow": workflow, "conversation": conversation_id}, school_id)
    return dialog(card(widgets + [buttons(button(label("save"), CONFIRM, data, filled=True),
                                          button(label("change_answers"), EDIT, data))]))


def required(form: Form) -> list[str]:
    """Inputs Chat must see filled before it sends the form: conditional and optional ones
    never block it (the core says which are missing once it sees the other answers)."""
    return [INPUT + f.name for f in form.fields
            if not (f.optional or f.ask_if is not None or f.blank_unknown)]


def form_widgets(form: Form, tz: ZoneInfo, raw: Mapping[str, str],
                 errors: Mapping[str, str]) -> list[dict[str, Any]]:
    widgets: list[dict[str, Any]] = []
    for field in form.fields:
        widgets.append(input_widget(field, raw.get(field.name), tz))
        hint = field.help
        if field.ask_if is not None:
            hint = (hint + " " if hint else "") + fixed("messages/forms/conditional_hint.txt.j2")
        if field.blank_unknown:
            hint = (hint + " " if hint else "") + fixed("messages/forms/blank_unknown.txt.j2")
        if hint:
            widgets.append(paragraph(hint, subtle=True))
        if field.name in errors:
            widgets.append(paragraph(errors[field.name], tone="error"))
    return widgets


def _choices(field: Field) -> list[tuple[str, str]]:
    if field.kind is Kind.YES_NO:
        return ([(label("yes"), "yes"), (label("no"), "no")]
                + ([(label("dont_know"), UNKNOWN)] if field.unknown else []))
    return [(c.label, c.value) for c in field.choices]


def input_widget(field: Field, value: str | None, tz: ZoneInfo) -> dict[str, Any]:
    """One input for ``field`` holding ``value`` (the text the field parser reads)."""
    name, title = INPUT + field.name, neutral(field.label)
    if field.picked:
        # A person field lists the people it allows (``Form.bound``), each as "person:ID".
        chosen = set((value or "").split(",")) if field.kind is Kind.MULTI_CHOICE else {value}
        kind = {Kind.CHOICE: "DROPDOWN", Kind.YES_NO: "RADIO_BUTTON",
                Kind.MULTI_CHOICE: "CHECK_BOX", Kind.PERSON: "DROPDOWN"}[field.kind]
        return {"selectionInput": {
            "name": name, "label": title, "type": kind,
            "items": [{"text": neutral(t), "value": v, "selected": v in chosen}
                      for t, v in _choices(field)]}}
    if field.kind in (Kind.DATE, Kind.DATETIME):
        picker: dict[str, Any] = {
            "name": name, "label": title,
            "type": "DATE_ONLY" if field.kind is Kind.DATE else "DATE_AND_TIME"}
        moment = _moment(value, field.kind, tz)
        if moment is not None:
            picker["valueMsEpoch"] = str(moment)
        if field.kind is Kind.DATETIME:
            # Times are picked in the school's own time zone, whoever's browser shows them.
            offset = datetime.now(tz).utcoffset()
            picker["timezoneOffsetDate"] = int(offset.total_seconds() // 60) if offset else 0
        return {"dateTimePicker": picker}
    text: dict[str, Any] = {"name": name, "label": title,
                            "type": "MULTIPLE_LINE" if field.kind is Kind.LONG_TEXT
                            else "SINGLE_LINE"}
    if field.by_name:
        text["hintText"] = fixed("messages/forms/by_name.txt.j2")
    if value not in (None, ""):
        text["value"] = neutral(str(value))
    return {"textInput": text}


def _moment(value: str | None, kind: Kind, tz: ZoneInfo) -> int | None:
    """A shown date (``2026-11-23``) or moment (``2026-11-23 14:00``, school time) as the
    milliseconds a picker holds; None for anything else (typed text the parser refused)."""
    day, _, clock = (value or "").partition(" ")
    try:
        when = date.fromisoformat(day)
        if kind is Kind.DATE:
            return int(datetime.combine(when, time(), UTC).timestamp() * 1000)
        at = time.fromisoformat(clock) if clock else time()
    except ValueError:
        return None
    return int(datetime.combine(when, at, tz).timestamp() * 1000)


def submitted_text(form: Form, inputs: Mapping[str, Any], tz: ZoneInfo) -> dict[str, str]:
    """What Chat sent for each input (``common.formInputs``), as the text the field parser
    reads: a date as ``YYYY-MM-DD``, a moment as ``YYYY-MM-DD HH:MM`` in the school's time."""
    raw: dict[str, str] = {}
    for f in form.fields:
        given = inputs.get(INPUT + f.name)
        raw[f.name] = _entered(given, f.kind, tz) if isinstance(given, Mapping) else ""
    return raw


def _entered(given: Mapping[str, Any], kind: Kind, tz: ZoneInfo) -> str:
    if "stringInputs" in given:
        values = [str(v) for v in (given["stringInputs"] or {}).get("value") or []]
        return ",".join(values) if kind is Kind.MULTI_CHOICE else (values[0] if values else "")
    for key in ("dateInput", "dateTimeInput"):
        if key in given:
            ms = int(str((given[key] or {}).get("msSinceEpoch")))
            moment = datetime.fromtimestamp(ms / 1000, UTC)
            if key == "dateInput" or kind is Kind.DATE:
                return moment.date().isoformat()
            return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return ""


def bound(form: Form, ctx: Context) -> Form:
    """``form`` as ``ctx``'s person sees it here: its people listed up to ``PEOPLE``."""
    return form.bound(ctx, PEOPLE)
