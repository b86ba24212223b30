"""The neutral UI model as Adaptive Cards 1.5: messages, forms built from declarations, cases.

Teams renders markdown in a TextBlock and in FactSet values, so every string from the core
(which may hold what someone typed) goes into a TextRun, which is never parsed. Buttons are
``Action.Execute`` (Universal Actions): the data carries the reference, the version the
person saw and the case's school, as Slack's button value does, so a stale or double click
changes nothing and a trust DPO acts at the case's school whichever they work with now. A
case's buttons reach only the people listed in ``refresh.userIds``: everyone else sees the
details alone. Each card is cut to fit Teams' message size. The words are the templates'
(``templates/messages/``); here they are only laid out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.labels import fixed, label
from workflows.core import headline
from workflows.core.bidi import neutral
from workflows.core.context import Context
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

if TYPE_CHECKING:
    from workflows.people.models import Person

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
# Teams refuses a message over about 28 KB; the activity around the card needs some room.
# Measured as sent (``size``), not as UTF-8.
CARD_BYTES = 24_000
# Teams shows at most six actions on a card (its host config's maxActions): the rest go
# behind a "More…" that opens them in place.
MAX_ACTIONS = 6
TEXT_LIMIT = 4_000  # one TextRun: a long letter is split into several
# A person field lists up to this many people (about 80 bytes each as sent); a school's whole
# staff would crowd the card towards CARD_BYTES, so beyond it the form asks for a name.
PEOPLE = 150
REFRESH_USERS = 60  # Teams runs a card's refresh automatically for at most 60 users
COLOR = {"info": "default", "success": "good", "warning": "warning", "error": "attention"}
STYLE = {"primary": "positive", "danger": "destructive"}

# Verbs of the Action.Execute buttons, read back by bot.teams.app.
ACT, DECIDE, REFRESH = "act", "decide", "refresh"
FORM, INTAKE, CONFIRM, EDIT = "form", "intake", "confirm", "edit"
INPUT = "field."  # input ids: a prefix keeps field names apart from the action's own data


# Teams evaluates ``{{DATE(...)}}`` and ``${...}`` in a card's text: a word joiner after the
# first character shows the same and is never a function. Taken out again from what a form
# sends back (``_entered``), so a value shown and sent unchanged reads the same.
JOINER = "\u2060"
_TEMPLATE = re.compile(r"([{$])(?=\{)")
_JOINED = re.compile("([{$])" + JOINER + r"(?=\{)")


def literal(text: str) -> str:
    """User text as Teams shows it: never a function, never reordered (``neutral``)."""
    return _TEMPLATE.sub(r"\1" + JOINER, neutral(text))


def run(text: str, *, bold: bool = False, color: str = "default", subtle: bool = False,
        size: str | None = None) -> dict[str, Any]:
    """A TextRun: plain text, never markdown, so user text cannot become a link or a mention;
    without bidirectional controls, so it cannot be made to read backwards."""
    element: dict[str, Any] = {"type": "TextRun", "text": literal(text)[:TEXT_LIMIT]}
    if bold:
        element["weight"] = "Bolder"
    if color != "default":
        element["color"] = color
    if subtle:
        element["isSubtle"] = True
    if size:
        element["size"] = size
    return element


def rich(*inlines: dict[str, Any] | str, spacing: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "RichTextBlock",
        "inlines": [run(i) if isinstance(i, str) else i for i in inlines],
    }
    if spacing:
        block["spacing"] = spacing
    return block


def heading(text: str) -> dict[str, Any]:
    return rich(run(text, bold=True, size="Medium"))


def line(name: str, value: str) -> dict[str, Any]:
    return rich(run(f"{name}: ", bold=True), run(value), spacing="Small")


def adaptive_card(body: list[dict[str, Any]], actions: Sequence[dict[str, Any]] = (),
                  refresh: dict[str, Any] | None = None, summary: str | None = None
                  ) -> dict[str, Any]:
    """``summary``: what the card is in one line with no personal data (``core.headline``),
    kept as its ``fallbackText`` for the activity that carries it (``turns.card_activity``)."""
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body or [rich(" ")],
        "msteams": {"width": "Full"},  # Teams-only: the whole width of the chat
    }
    if summary:
        card["fallbackText"] = literal(summary)
    if actions:
        card["actions"] = _within_max(list(actions))
    if refresh:
        card["refresh"] = refresh
    return fit(card)


def _within_max(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(actions) <= MAX_ACTIONS:
        return actions
    keep = MAX_ACTIONS - 1
    more = {"type": "AdaptiveCard", "body": [], "actions": _within_max(actions[keep:])}
    return [*actions[:keep], {"type": "Action.ShowCard", "title": label("more_actions"),
                              "card": more}]


def fit(card: dict[str, Any]) -> dict[str, Any]:
    """Drop body elements from the end until the card fits, saying that it was shortened."""
    if size(card) <= CARD_BYTES:
        return card
    body = list(card["body"])
    note = rich(run(render("messages/shortened.txt.j2", platform="Teams"), subtle=True))
    while body and size({**card, "body": [*body, note]}) > CARD_BYTES:
        body.pop()
    return {**card, "body": [*body, note]}


def size(card: Mapping[str, Any]) -> int:
    """Bytes on the wire: the HTTP client sends JSON with every non-ASCII character escaped
    (``\\u0105``, 6 bytes for Polish's 2 in UTF-8 and Arabic's 2), so that is what counts."""
    return len(json.dumps(card))


def execute(title: str, verb: str, data: Mapping[str, Any], style: str | None = None,
            *, inputs: bool = True) -> dict[str, Any]:
    """``inputs=False`` for a way out of a form: Teams will not send an action whose
    associated inputs are empty but required, so "Not now" would stay disabled."""
    action: dict[str, Any] = {"type": "Action.Execute", "title": title[:100], "verb": verb,
                              "data": dict(data)}
    if style:
        action["style"] = style
    if not inputs:
        action["associatedInputs"] = "none"
    return action


# Replies


def message_card(replies: Sequence[Reply], *, refresh_for: Iterable[str] = (),
                 school_id: int | None = None, summary: str | None = None) -> dict[str, Any]:
    """One card holding a turn's replies; a case in it (at ``school_id``) gets buttons only
    through refresh. ``summary``: its line for notifications, if not the replies' own."""
    body: list[dict[str, Any]] = []
    refresh = None
    for reply in replies:
        body.extend(reply_elements(reply))
        if isinstance(reply, Card) and refresh is None:
            refresh = case_refresh(reply.reference, refresh_for, school_id)
    return adaptive_card(body, refresh=refresh, summary=summary or headline.of_replies(replies))


def notice_card(text: str, tone: str = "error") -> dict[str, Any]:
    return message_card([Text(text, tone)])  # type: ignore[arg-type]


def accounts(people: Iterable[Person]) -> list[str]:
    """The Teams ids of ``people`` who have one: whom a card's refresh names."""
    return [p.teams_user_id for p in people if p.teams_user_id]


def reply_elements(reply: Reply) -> list[dict[str, Any]]:
    if isinstance(reply, Text):
        return [rich(run(reply.text, color=COLOR[reply.tone]))]
    if isinstance(reply, Question):
        return _question(reply)
    if isinstance(reply, Summary):
        return _summary(reply)
    if isinstance(reply, Card):
        return case_elements(reply)
    if isinstance(reply, Table):
        return _table(reply)
    if isinstance(reply, Document):
        return [heading(reply.title),
                *(rich(run(chunk, size="Small")) for chunk in _chunks(reply.body))]
    if isinstance(reply, File):  # the file itself is offered by a FileConsentCard after this
        return reply_elements(Text(reply.said))
    raise TypeError(f"cannot render {type(reply).__name__}")  # pragma: no cover


def _question(q: Question) -> list[dict[str, Any]]:
    elements = [rich(run(q.prompt, bold=True))]
    elements += [rich(f"{i}. {o.label}", spacing="None") for i, o in enumerate(q.options, 1)]
    if q.current is not None:
        elements.append(rich(run(render("messages/forms/currently.txt.j2", current=q.current),
                                 subtle=True)))
    hint = render("messages/forms/question_hint.txt.j2", step=q.step, total=q.total,
                  optional=q.optional)
    elements.append(rich(run(hint, subtle=True, size="Small")))
    return elements


def _summary(s: Summary) -> list[dict[str, Any]]:
    elements = [heading(s.title), *(line(label, value) for label, value in s.rows)]
    elements += [rich(run(note, color="accent")) for note in s.notes]
    elements.append(rich(run(render("messages/forms/summary_hint.txt.j2", rows=bool(s.rows)),
                             subtle=True)))
    return elements


def case_elements(c: Card, footer: str | None = None) -> list[dict[str, Any]]:
    elements = [heading(f"{c.reference} · {c.title}"), line(label("status"), c.status)]
    elements += [line(label, value) for label, value in c.rows]
    if c.deadline:
        elements.append(rich(run(c.deadline, color="warning")))
    if footer or c.footer:
        elements.append(rich(run(footer or c.footer or "", subtle=True)))
    return elements


def _table(t: Table) -> list[dict[str, Any]]:
    if not t.rows:
        return [rich(run(f"{t.title}: ", bold=True), run(t.empty))]
    return [rich(run(t.title, bold=True)),
            *(rich("• " + " · ".join(cell for cell in row if cell), spacing="None")
              for row in t.rows)]


def _chunks(text: str) -> list[str]:
    return [text[i:i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)] or [" "]


# Cases and decisions


def case_refresh(reference: str, user_ids: Iterable[str], school_id: int | None = None
                 ) -> dict[str, Any] | None:
    """Teams asks the bot again, for these users only, for the card with their buttons."""
    users = list(dict.fromkeys(u for u in user_ids if u))[:REFRESH_USERS]
    if not users:
        return None
    return {"action": execute(label("show_actions"), REFRESH, _at({"ref": reference}, school_id)),
            "userIds": users}


def case_card(c: Card, *, with_buttons: bool, refresh_for: Iterable[str] = (),
              notice: Text | None = None, footer: str | None = None,
              school_id: int | None = None) -> dict[str, Any]:
    """A case (at ``school_id``) as one person may see it; ``with_buttons`` for a refresh or
    an invoke answer."""
    body = [reply_elements(notice)[0]] if notice else []
    body += case_elements(c, footer)
    actions = [button(b) for b in c.buttons] if with_buttons else []
    return adaptive_card(body, actions, refresh=case_refresh(c.reference, refresh_for,
                                                             school_id),
                         summary=headline.of_replies([c]))


def too_large_card(headline_: str, reference: str | None, school_id: int | None = None
                   ) -> dict[str, Any]:
    """What goes instead of a notification Teams will not take whole: its one line (a
    reference and the countdown, never a detail) and a way to open the case in place."""
    actions = ([execute(label("open_case"), REFRESH, _at({"ref": reference}, school_id))]
               if reference else [])
    body = [rich(run(headline_, bold=True)),
            rich(run(render("messages/too_large.txt.j2", reference=reference), subtle=True))]
    return adaptive_card(body, actions, summary=headline_)


def button(b: Button) -> dict[str, Any]:
    return execute(b.label, ACT, {"action": b.action, "value": b.value}, STYLE.get(b.style))


def decision_form(c: Card, action_label: str, action: str, value: str, form: Form,
                  confirm: str | None, raw: Mapping[str, str] | None = None,
                  errors: Mapping[str, str] | None = None, note: str | None = None,
                  school_id: int | None = None) -> dict[str, Any]:
    """The questions of a decision (a reason, a date) on a case at ``school_id``, asked on
    the card itself."""
    body = [heading(f"{action_label} — {c.reference}")]
    if note:
        body.append(rich(run(note, color="attention")))
    if confirm:
        body.append(rich(run(confirm, color="warning")))
    body += form_elements(form, raw or {}, errors or {})
    data = {"action": action, "value": value}
    return adaptive_card(body, [
        execute(label("save") if form.fields else action_label, DECIDE, data, "positive"),
        execute(label("not_now"), REFRESH, _at({"ref": c.reference}, school_id), inputs=False),
    ])


# Forms


def intake_form(workflow: str, title: str, form: Form, raw: Mapping[str, str] | None = None,
                errors: Mapping[str, str] | None = None, note: str | None = None, *,
                about: str | None = None, school_id: int | None = None) -> dict[str, Any]:
    """A new case as a form: ``note`` is why it came back, ``about`` which school it is for
    (to someone who works with several), saved at ``school_id`` whatever they choose later."""
    body = [heading(title)]
    if about:
        body.append(rich(run(about, subtle=True)))
    if note:
        body.append(rich(run(note, color="attention")))
    if errors:
        body.append(rich(run(fixed("messages/forms/correct_below.txt.j2"), color="attention")))
    body += form_elements(form, raw or {}, errors or {})
    return adaptive_card(body, [execute(label("next"), INTAKE,
                                        _at({"workflow": workflow}, school_id), "positive")])


def _at(data: dict[str, Any], school_id: int | None) -> dict[str, Any]:
    """What a button sends back, with the school it acts at: references repeat from school
    to school, and a form is saved where it was begun."""
    return data if school_id is None else {**data, "school": school_id}


def form_elements(form: Form, raw: Mapping[str, str], errors: Mapping[str, str]
                  ) -> list[dict[str, Any]]:
    """Inputs for every field, filled with ``raw`` (``Form.shown``, or what was sent); an
    error from the core is shown right under its input."""
    elements: list[dict[str, Any]] = []
    for field in form.fields:
        elements += input_elements(field, raw.get(field.name))
        hint = field.help
        if field.ask_if is not None:
            hint = (hint + " " if hint else "") + fixed("messages/forms/conditional_hint.txt.j2")
        if field.blank_unknown:
            hint = (hint + " " if hint else "") + fixed("messages/forms/blank_unknown.txt.j2")
        if hint:
            elements.append(rich(run(hint, subtle=True, size="Small"), spacing="None"))
        if field.name in errors:
            elements.append(rich(run(errors[field.name], color="attention"), spacing="None"))
    return elements


# A date-time is an Input.Date and an Input.Time; the time's id is the field's and this.
TIME = ".time"
_TEXT_STYLE = {Kind.EMAIL: "Email", Kind.PHONE: "Tel", Kind.URL: "Url"}


def input_elements(field: Field, value: str | None) -> list[dict[str, Any]]:
    element: dict[str, Any] = {"id": INPUT + field.name, "label": field.label}
    day, clock = (value or "").partition(" ")[::2]
    # A person field lists only the people it allows (``Field.bound``): Teams' people picker
    # (``choices.data``) is not in Adaptive Cards 1.5, and would offer the whole directory.
    if field.picked:
        choices = ([(label("yes"), "yes"), (label("no"), "no")]
                   + ([(label("dont_know"), UNKNOWN)] if field.unknown else [])
                   if field.kind is Kind.YES_NO else [(c.label, c.value) for c in field.choices])
        element |= {"type": "Input.ChoiceSet", "style": "compact",
                    "choices": [{"title": literal(t), "value": v} for t, v in choices]}
        if field.kind is Kind.MULTI_CHOICE:  # sends the values chosen as "a,b"
            element["isMultiSelect"] = True
    elif field.kind in (Kind.DATE, Kind.DATETIME):
        element["type"] = "Input.Date"
        value = day if field.kind is Kind.DATETIME else value
    elif field.kind is Kind.NUMBER:
        element |= {"type": "Input.Number", "min": 0}
    else:
        element |= {"type": "Input.Text", "isMultiline": field.kind is Kind.LONG_TEXT}
        if field.kind is not Kind.LONG_TEXT:
            # A long paste must not be cut silently by the client: the core refuses one over
            # the limit, saying how long it was, with the text still in the form.
            element["maxLength"] = field.limit
        if field.kind in _TEXT_STYLE:
            element["style"] = _TEXT_STYLE[field.kind]
        if field.by_name:
            element["placeholder"] = fixed("messages/forms/by_name.txt.j2")
    # Conditional and optional fields must not block the submit; the core says which are
    # missing once it sees the other answers.
    required = not (field.optional or field.ask_if is not None or field.blank_unknown)
    if required:
        element |= {"isRequired": True,
                    "errorMessage": fixed("messages/forms/required.txt.j2")}
    if value not in (None, ""):
        element["value"] = literal(value)
        if field.kind is Kind.NUMBER and str(value).isdigit():
            element["value"] = int(value)  # Input.Number holds a number, not its text
    if field.kind is not Kind.DATETIME:
        return [element]
    time: dict[str, Any] = {"type": "Input.Time", "id": INPUT + field.name + TIME,
                            "label": render("messages/forms/time_label.txt.j2",
                                            label=field.label)}
    if required:
        time |= {"isRequired": True, "errorMessage": fixed("messages/forms/required.txt.j2")}
    if clock:
        time["value"] = clock
    return [element, time]


def submitted_text(form: Form, data: Mapping[str, Any]) -> dict[str, str]:
    """What was entered in each input, as the text the field parser reads."""
    raw: dict[str, str] = {}
    for f in form.fields:
        raw[f.name] = _entered(data.get(INPUT + f.name))
        if f.kind is Kind.DATETIME:
            raw[f.name] = f"{raw[f.name]} {_entered(data.get(INPUT + f.name + TIME))}".strip()
    return raw


def _entered(value: Any) -> str:
    # Input.Number sends a number (30, or 30.0 from some clients): the parser reads "30".
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else _JOINED.sub(r"\1", str(value))


def summary_card(summary: Summary, workflow: str, conversation_id: int,
                 school_id: int | None = None) -> dict[str, Any]:
    body = [heading(summary.title), *(line(label, value) for label, value in summary.rows)]
    body += [rich(run(note, color="accent")) for note in summary.notes]
    body.append(rich(run(fixed("messages/forms/saved_on_save.txt.j2"),
                         subtle=True)))
    data = _at({"workflow": workflow, "conversation": conversation_id}, school_id)
    return adaptive_card(body, [execute(label("save"), CONFIRM, data, "positive"),
                                execute(label("change_answers"), EDIT, data)])


def start_card(text_replies: Sequence[Reply], starts: Sequence[tuple[str, str]]
               ) -> dict[str, Any]:
    """Help, with a button per workflow this person may start as a form."""
    body = [element for reply in text_replies for element in reply_elements(reply)]
    return adaptive_card(body, [execute(render("messages/forms/start_button.txt.j2", title=title),
                                        FORM, {"workflow": name})
                                for name, title in starts])



def bound(form: Form, ctx: Context) -> Form:
    """``form`` as ``ctx``'s person sees it here: its people listed up to ``PEOPLE``."""
    return form.bound(ctx, PEOPLE)
