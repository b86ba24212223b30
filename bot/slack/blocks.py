"""The neutral UI model as Block Kit: messages, modals built from form declarations, App Home.

Whatever may hold what someone typed goes as rich text or plain_text, which Slack shows
exactly as it is: mrkdwn has no escape for ``*``, ``_``, ``~`` or backticks, so typed text
there could turn bold, struck through or code. mrkdwn carries template words only, escaped
all the same. Every field is clipped to Slack's limits (a payload over a limit is refused by
Slack as a whole). The words are the templates' (``templates/messages/``); here they get
Slack's emphasis and emoji.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.labels import fixed, label
from bot.slack.mrkdwn import clip, escape
from workflows.core import headline
from workflows.core.bidi import neutral
from workflows.core.fields import PERSON_TOKEN, UNKNOWN, Field, Form, Kind
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
    Tone,
)
from workflows.core.wording import render

SECTION_LIMIT = 3000
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
TITLE_LIMIT = 24
BUTTON_LIMIT = 75
OPTION_LIMIT = 75
INPUT_LABEL_LIMIT = 2000
TONE_EMOJI: dict[Tone, str | None] = {"info": None, "success": "white_check_mark",
                                      "warning": "warning", "error": "no_entry"}


def plain(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def literal(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """plain_text that stays as typed: not even ``:name:`` becomes an emoji."""
    return {"type": "plain_text", "text": clip(text, limit), "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    """``verbatim``: a URL, a channel name or an @name someone typed stays text, never a
    link or a mention (``escape`` already keeps ``<...>`` from being one)."""
    return {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT), "verbatim": True}


def section(text: str) -> dict[str, Any]:
    """Template words only (escaped): anything typed goes in ``told`` or ``rows_blocks``."""
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str, tone: Tone = "info") -> dict[str, Any]:
    """A small grey line, shown literally (it may quote a name, a note, what was typed),
    after the tone's emoji."""
    emoji = TONE_EMOJI[tone]
    lead = [mrkdwn(f":{emoji}:")] if emoji else []
    return {"type": "context", "elements": [*lead, literal(text)]}


def told(text: str, tone: Tone = "info") -> dict[str, Any]:
    """A sentence, after its tone's emoji, shown exactly as it is: it may quote a note, a
    name or a reason someone typed."""
    emoji = TONE_EMOJI[tone]
    said = clip(text, SECTION_LIMIT)
    if emoji:
        return _rich([{"type": "emoji", "name": emoji}, text_run(" " + said)])
    return _rich([text_run(said)])


def text_run(text: str, **style: bool) -> dict[str, Any]:
    """A rich text element: never a link, a mention or markup, whatever it holds; ``style``
    (bold, italic) is for the template's own words."""
    element: dict[str, Any] = {"type": "text", "text": neutral(text)}
    if style:
        element["style"] = style
    return element


def message_blocks(replies: Sequence[Reply], *, with_buttons: bool = True) -> list[dict]:
    blocks: list[dict] = []
    for reply in replies:
        blocks.extend(reply_blocks(reply, with_buttons=with_buttons))
    if len(blocks) > MESSAGE_BLOCKS:
        blocks = blocks[: MESSAGE_BLOCKS - 1] + [
            context(render("messages/shortened.txt.j2", platform=None))]
    return blocks


def reply_blocks(reply: Reply, *, with_buttons: bool = True) -> list[dict]:
    if isinstance(reply, Text):
        return [told(reply.text, reply.tone)]
    if isinstance(reply, Question):
        return _question(reply)
    if isinstance(reply, Summary):
        return _summary(reply)
    if isinstance(reply, Card):
        return card_blocks(reply, with_buttons=with_buttons)
    if isinstance(reply, Table):
        return _table(reply)
    if isinstance(reply, Document):
        return [
            {"type": "header", "text": plain(reply.title, 150)},
            # Preformatted rich text, not a ``` block: a letter holding ``` cannot end it.
            *({"type": "rich_text", "elements": [{"type": "rich_text_preformatted",
                                                  "elements": [text_run(chunk)]}]}
              for chunk in _chunks(reply.body, 2900)),
        ]
    if isinstance(reply, File):  # the file itself follows, uploaded to the person's DM
        return reply_blocks(Text(reply.said))
    raise TypeError(f"cannot render {type(reply).__name__}")  # pragma: no cover


def fallback_text(replies: Iterable[Reply]) -> str:
    """The notification text Slack shows on phones and in search: what the message is, with
    no personal data (``core.headline``), escaped."""
    return clip(escape(headline.of_replies(replies)), 300)


def _question(q: Question) -> list[dict]:
    """The prompt in bold, the choices numbered and the answer already given (which may be
    anything typed) in italics: rich text, so none of it is read as markup."""
    prompt = clip(q.prompt, SECTION_LIMIT)
    room = SECTION_LIMIT - len(prompt)
    elements = [text_run(prompt, bold=True)]
    options = "".join(f"\n{i}. {o.label}" for i, o in enumerate(q.options, 1))
    if options and room > 1:
        elements.append(text_run(clip(options, room)))
        room -= len(elements[-1]["text"])
    if q.current is not None and room > 1:
        elements += [text_run("\n"), text_run(clip(render("messages/forms/currently.txt.j2",
                                                    current=q.current), room - 1),
                                         italic=True)]
    hint = render("messages/forms/question_hint.txt.j2", step=q.step, total=q.total,
                  optional=q.optional)
    return [_rich(elements), context(hint)]


def _summary(s: Summary) -> list[dict]:
    blocks = [{"type": "header", "text": plain(s.title, 150)}]
    blocks += rows_blocks(s.rows)
    blocks += [context(note) for note in s.notes]
    blocks.append(context(render("messages/forms/summary_hint.txt.j2", rows=bool(s.rows))))
    return blocks


def card_blocks(c: Card, *, with_buttons: bool = True) -> list[dict]:
    blocks: list[dict] = [
        {"type": "header", "text": plain(f"{c.reference} · {c.title}", 150)},
        section(f"*{escape(label('status'))}*: {escape(c.status)}"),
    ]
    blocks += rows_blocks(c.rows)
    if c.deadline:
        blocks.append(context(c.deadline))
    if with_buttons and c.buttons:
        blocks.append({
            "type": "actions",
            "block_id": f"case:{c.reference}",
            "elements": [button(b) for b in c.buttons[:25]],
        })
    if c.footer:
        blocks.append(context(c.footer))
    return blocks


def rows_blocks(rows: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """"Label: value" lines as rich text, where what staff typed shows exactly as typed:
    mrkdwn has no escape for ``*``, ``_``, ``~`` or backticks, so a value there could turn
    bold or struck through. Each block holds about what a section would."""
    blocks: list[dict[str, Any]] = []
    elements: list[dict[str, Any]] = []
    size = 0
    for name, value in rows:
        line = [text_run(name, bold=True), text_run(": " + value)]
        length = sum(len(e["text"]) for e in line) + 1
        if elements and size + length > SECTION_LIMIT:
            blocks.append(_rich(elements))
            elements, size = [], 0
        if elements:
            elements.append(text_run("\n"))
        elements += line
        size += length
    if elements:
        blocks.append(_rich(elements))
    return blocks


def _rich(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                               "elements": elements}]}


def button(b: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": f"act:{b.action}",
        "text": plain(b.label, BUTTON_LIMIT),
        "value": b.value,
    }
    if b.style in ("primary", "danger"):
        element["style"] = b.style
    if b.confirm:
        element["confirm"] = {
            "title": plain(label("are_you_sure"), 100),
            "text": plain(b.confirm, 300),
            "confirm": plain(clip(b.label, 30), 30),
            "deny": plain(label("not_now"), 30),
        }
        if b.style == "danger":  # the dialog's confirm button is red too: it cannot be undone
            element["confirm"]["style"] = "danger"
    return element


def _table(t: Table) -> list[dict]:
    # Rich text: the title may name a pupil or a school, the cells a requester or a pupil.
    title = text_run(clip(t.title, SECTION_LIMIT), bold=True)
    if not t.rows:
        return [_rich([title, text_run(": " + t.empty)])]
    out = [_rich([title])]
    items: list[dict[str, Any]] = []
    size = 0
    for row in t.rows:
        line = neutral(" · ".join(cell for cell in row if cell))
        if items and size + len(line) > SECTION_LIMIT:
            out.append(_bullets(items))
            items, size = [], 0
        items.append({"type": "rich_text_section", "elements": [text_run(line)]})
        size += len(line) + 1
    out.append(_bullets(items))
    return out[:MESSAGE_BLOCKS - 1]


def _bullets(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "rich_text", "elements": [{"type": "rich_text_list", "style": "bullet",
                                               "elements": items}]}


def _chunks(text: str, size: int) -> list[str]:
    """Split on line breaks into pieces Slack accepts (a section holds 3000 characters)."""
    pieces, current = [], ""
    for line in text.splitlines() or [""]:
        while len(line) > size:
            pieces.append(line[:size])
            line = line[size:]
        if len(current) + len(line) + 1 > size:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    pieces.append(current)
    return [p for p in pieces if p] or [" "]


# Modals


def modal(
    *,
    title: str,
    callback_id: str,
    blocks: list[dict],
    submit: str | None = label("next"),
    metadata: Mapping[str, Any] | None = None,
    close: str = label("cancel"),
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, TITLE_LIMIT),
        "close": plain(close, TITLE_LIMIT),
        "blocks": blocks[:MODAL_BLOCKS],
        "private_metadata": json.dumps(metadata or {}),
    }
    if submit:
        view["submit"] = plain(submit, TITLE_LIMIT)
    return view


# A date-time is a date picker and a time picker, each in its own input block: this suffix
# names the time's block, beside the field's own (which carries the field's errors).
TIME = "__time"
# Slack offers a time picker in steps, but a typed time (09:07) must come back unchanged.
_PLAIN_KINDS = {Kind.TEXT: "plain_text_input", Kind.LONG_TEXT: "plain_text_input",
                Kind.PHONE: "plain_text_input", Kind.EMAIL: "email_text_input",
                Kind.URL: "url_text_input", Kind.NUMBER: "number_input"}


def form_blocks(form: Form, initial: Mapping[str, str] | None = None) -> list[dict]:
    """Input blocks for every field, filled with ``initial`` (``Form.shown``: each value in
    its control's own format); conditional fields say when they are needed."""
    initial = initial or {}
    found: list[dict] = []
    for field in form.fields:
        found += input_blocks(field, initial.get(field.name))
    return found


def input_blocks(field: Field, initial: str | None = None) -> list[dict[str, Any]]:
    hint = field.help
    if field.ask_if is not None:
        hint = (hint + " " if hint else "") + fixed("messages/forms/conditional_hint.txt.j2")
    if field.blank_unknown:
        hint = (hint + " " if hint else "") + fixed("messages/forms/blank_unknown.txt.j2")
    # Conditional and optional fields must not block Slack's own submit check;
    # the form's own validation says which are missing.
    optional = field.optional or field.ask_if is not None or field.blank_unknown
    day, clock = (initial or "").partition(" ")[::2]
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field.name,
        "label": plain(field.label, INPUT_LABEL_LIMIT),
        "optional": optional,
        "element": _element(field, day if field.kind is Kind.DATETIME else initial),
    }
    if hint:
        block["hint"] = plain(hint, INPUT_LABEL_LIMIT)
    if field.kind is not Kind.DATETIME:
        return [block]
    time_element: dict[str, Any] = {"type": "timepicker", "action_id": "value"}
    if clock:
        time_element["initial_time"] = clock
    return [block, {
        "type": "input", "block_id": field.name + TIME, "optional": optional,
        "label": plain(render("messages/forms/time_label.txt.j2", label=field.label),
                       INPUT_LABEL_LIMIT),
        "element": time_element}]


def _element(field: Field, initial: str | None) -> dict[str, Any]:
    action_id = "value"
    if field.kind in (Kind.CHOICE, Kind.YES_NO):
        options = _options(field)
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": action_id,
            "placeholder": plain(label("choose"), 150),
            "options": options[:100],
        }
        chosen = next((o for o in options if o["value"] == initial), None)
        if chosen:
            element["initial_option"] = chosen
        return element
    if field.kind is Kind.MULTI_CHOICE:
        options = _options(field)
        element = {"type": "multi_static_select", "action_id": action_id,
                   "placeholder": plain(label("choose"), 150), "options": options[:100]}
        chosen_ones = [o for o in options if o["value"] in (initial or "").split(",")]
        if chosen_ones:
            element["initial_options"] = chosen_ones
        return element
    if field.kind is Kind.PERSON:
        # Slack lists the whole workspace and cannot be limited: the core refuses anyone
        # the field does not allow, as the field's error.
        element = {"type": "users_select", "action_id": action_id,
                   "placeholder": plain(label("choose"), 150)}
        if initial and not initial.startswith(PERSON_TOKEN):  # one with no Slack account
            element["initial_user"] = initial
        return element
    if field.kind in (Kind.DATE, Kind.DATETIME):
        element = {"type": "datepicker", "action_id": action_id}
        if initial:
            element["initial_date"] = initial[:10]
        return element
    element = {"type": _PLAIN_KINDS[field.kind], "action_id": action_id}
    if field.kind is Kind.NUMBER:
        element["is_decimal_allowed"] = False
    elif field.kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.PHONE):
        element |= {"multiline": field.kind is Kind.LONG_TEXT,
                    "max_length": min(field.limit, 3000)}
    if initial not in (None, ""):
        element["initial_value"] = str(initial)
    return element


def _options(field: Field) -> list[dict[str, Any]]:
    if field.kind is Kind.YES_NO:
        return [_option("yes", label("yes")), _option("no", label("no"))] + (
            [_option(UNKNOWN, label("dont_know"))] if field.unknown else [])
    return [_option(c.value, c.label) for c in field.choices]


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, OPTION_LIMIT), "value": value}


def submitted_text(form: Form, state_values: Mapping[str, Any]) -> dict[str, str]:
    """What was entered in each input, as the text the field parser reads."""
    raw: dict[str, str] = {}
    for field in form.fields:
        raw[field.name] = _entered(state_values.get(field.name, {}).get("value", {}))
        if field.kind is Kind.DATETIME:
            clock = _entered(state_values.get(field.name + TIME, {}).get("value", {}))
            raw[field.name] = f"{raw[field.name]} {clock}".strip()
    return raw


def _entered(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "static_select":
        return str((element.get("selected_option") or {}).get("value", ""))
    if kind == "multi_static_select":
        return ",".join(o["value"] for o in element.get("selected_options") or [])
    if kind == "users_select":
        return str(element.get("selected_user") or "")
    if kind == "datepicker":
        return str(element.get("selected_date") or "")
    if kind == "timepicker":
        return str(element.get("selected_time") or "")
    return str(element.get("value") or "")


def summary_view(summary: Summary, *, callback_id: str, metadata: Mapping[str, Any]) -> dict:
    return modal(
        title=label("check_and_save"),
        callback_id=callback_id,
        blocks=_summary_modal_blocks(summary),
        submit=label("save"),
        metadata=metadata,
    )


# The summary's button that brings the form back, filled with what was entered.
EDIT_ANSWERS = "edit_answers"


def _summary_modal_blocks(s: Summary) -> list[dict]:
    blocks = rows_blocks(s.rows)
    blocks += [context(note) for note in s.notes]
    blocks.append({"type": "actions", "block_id": EDIT_ANSWERS, "elements": [{
        "type": "button", "action_id": EDIT_ANSWERS,
        "text": plain(label("change_answers"), BUTTON_LIMIT)}]})
    blocks.append(context(fixed("messages/forms/saved_on_save.txt.j2")))
    return blocks


def loading_view(title: str, callback_id: str) -> dict[str, Any]:
    """What a modal shows while its form is looked up (``listeners.answers.loading``)."""
    return modal(title=title, callback_id=callback_id, blocks=[context(label("loading"))],
                 submit=None)


def saving_view(title: str) -> dict[str, Any]:
    """What a submitted modal shows while the core answers (``listeners.views``): it has
    nothing to submit, and closing it loses nothing already sent."""
    return modal(title=title, callback_id="notice", blocks=[context(label("saving"))],
                 submit=None, close=label("close"))


# What views.update takes of a view; the rest of a submitted one (id, state, hash...) is Slack's.
_VIEW_KEYS = ("type", "title", "close", "submit", "callback_id", "private_metadata",
              "clear_on_close", "notify_on_close", "external_id")
ERROR_BLOCK = "error:"


def as_typed(view: Mapping[str, Any], errors: Mapping[str, str] | None = None,
             above: Sequence[Reply] = ()) -> dict[str, Any]:
    """A submitted modal again, every input as it was typed, each error under its field and
    ``above`` on top: what ``response_action: errors`` shows, for when the ack has gone."""
    values = (view.get("state") or {}).get("values") or {}
    kept: list[dict[str, Any]] = []
    for block in view.get("blocks") or []:
        if str(block.get("block_id", "")).startswith(ERROR_BLOCK):
            continue  # the errors of an earlier try
        block = json.loads(json.dumps(block))
        if block.get("type") == "input":
            element = block.get("element") or {}
            _refill(element, (values.get(block.get("block_id")) or {}).get(
                element.get("action_id")) or {})
        kept.append(block)
        error = (errors or {}).get(block.get("block_id", ""))
        if error:
            kept.append(context(error, "warning") | {"block_id": ERROR_BLOCK + block["block_id"]})
    shown = {key: view[key] for key in _VIEW_KEYS if key in view}
    shown["blocks"] = (message_blocks(above, with_buttons=False) + kept)[:MODAL_BLOCKS]
    return shown


# A control's state as submitted, and the property that shows it again.
_TYPED = {"value": "initial_value", "selected_date": "initial_date",
          "selected_time": "initial_time", "selected_option": "initial_option",
          "selected_options": "initial_options"}


def _refill(element: dict[str, Any], typed: Mapping[str, Any]) -> None:
    # Slack refuses an initial option that is not one of the element's own, exactly.
    options = {o.get("value"): o for o in element.get("options") or []}
    for name, initial in _TYPED.items():
        element.pop(initial, None)
        value = typed.get(name)
        if name == "selected_option" and value:
            value = options.get(value.get("value"))
        elif name == "selected_options" and value:
            value = [options[o.get("value")] for o in value if o.get("value") in options]
        if value not in (None, "", []):
            element[initial] = value


def notice_view(title: str, replies: Sequence[Reply]) -> dict[str, Any]:
    """A view that only tells (it is saved): nothing is left to cancel, so it closes."""
    return modal(title=title, callback_id="notice", blocks=message_blocks(replies,
                 with_buttons=False), submit=None, close=label("close"))
