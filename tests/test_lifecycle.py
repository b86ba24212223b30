"""The declarations own the lifecycle: what the engine, the router and the sweep derive from
them holds for every registered workflow, and ``workflows/`` imports without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workflows.core import router, unfinished
from workflows.core.chat import INTENTS
from workflows.core.declaration import CREATED, OWNER, REQUESTER, TEAM
from workflows.people.models import Role
from workflows.registry import QUESTIONS, WORKFLOWS
from workflows.reminders.service import DeadlineHandler, handlers

PACKAGE = Path(__file__).resolve().parent.parent / "workflows"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_notice_is_on_an_event_the_workflow_has_and_to_someone_it_knows(name: str) -> None:
    workflow = WORKFLOWS[name]
    events = {CREATED} | {a.name for a in workflow.actions}
    for notice in workflow.notices:
        assert set(notice.on) <= events, notice
        assert all(who in (TEAM, OWNER, REQUESTER, *Role) for who in notice.to), notice
        # Whether it reached them is told of one person only.
        assert not notice.confirm or notice.to in ((OWNER,), (REQUESTER,)), notice


@pytest.mark.parametrize("name", WORKFLOWS)
def test_a_workflow_is_named_by_its_name_prefix_title_or_a_trigger(name: str) -> None:
    workflow = WORKFLOWS[name]
    for word in (workflow.name, workflow.prefix, workflow.title, *workflow.triggers):
        assert router.named(f"  {word.upper()} ") is workflow, word
    # Free text starts it by a trigger within it.
    for trigger in workflow.triggers:
        assert router.started_by(f"Please, {trigger.upper()} now") is workflow, trigger


def test_one_router_knows_every_declared_question_in_order() -> None:
    declared = router.routes()
    assert declared == (*WORKFLOWS["software"].routes, *QUESTIONS)
    # The chat asks its own first, the declared ones next, an action on a case last.
    assert INTENTS[-1 - len(declared):-1] == declared
    # “Can I use IXL?” names a product: the register is asked before photo consent.
    found = router.question("can we use IXL?", declared)
    assert found is not None and found[0] in WORKFLOWS["software"].routes
    found = router.question("consent Amelia Jones for the website", declared)
    assert found is not None and found[0] in QUESTIONS


def test_the_sweep_derives_a_handler_for_every_reminder_the_workflows_declare() -> None:
    found = handlers(WORKFLOWS)
    for workflow in WORKFLOWS.values():
        if workflow.reminders is not None:
            assert found[workflow.name] == DeadlineHandler(workflow)
        for subject, handler in workflow.reminder_handlers.items():
            assert found[subject] is handler
    # The core's own: the digest, and the nudge for a form left unsaved (``core.unfinished``).
    core = {"digest", unfinished.SUBJECT}
    assert set(found) == core | {w.name for w in WORKFLOWS.values() if w.reminders} | {
        s for w in WORKFLOWS.values() for s in w.reminder_handlers}
    # Only what it is given: a sweep for one workflow sends nothing of another's.
    assert set(handlers({"sar": WORKFLOWS["sar"]})) == core | {"sar"}


def _imports() -> dict[str, set[str]]:
    """Each module of ``workflows`` and the modules of it that it imports, anywhere in it
    (an import inside a function closes a cycle too, only later)."""
    modules = {".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts)
               .removesuffix(".__init__"): f for f in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workflows"):
                for alias in node.names:
                    module = f"{node.module}.{alias.name}"
                    found.add(module if module in modules else str(node.module))
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("workflows")}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_workflows_has_no_import_cycle() -> None:
    graph = _imports()
    assert "workflows.sar.flows" in graph["workflows.registry"]  # the walk sees imports

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert [m for m in graph if m in reaches(m)] == []
