"""Teams under load: `dpo-bot teams` against a bare Agents SDK app that only answers.

Both get the same signed `adaptiveCard/action` invokes: the DPO's "Take the case" on each
case, as Teams posts it when the button on an alert card is clicked. Tokens are RS256 JWTs
signed by a local key, checked by the SDK's real check in both servers (the tests' local
Microsoft serves the keys, takes the bot's outbound token requests and records its replies).
The cases are real: logged through the core (the form path a Teams card uses) on PostgreSQL.
The bare app is an ``AgentApplication`` on the same aiohttp stack behind the same JWT check,
whose only handler answers the same verb with a one-line card. The load generator keeps a
fixed number of requests in flight.

Teams is answered when the turn is done, so here an answer is the whole decision: printed are
requests per second and latency (p50, p99) for both, their ratio, and decisions per second
(each case taken in the database).

    python bench/teams_http.py --database postgresql+psycopg://postgres@127.0.0.1/bench_teams

The database given is EMPTIED (its public schema dropped): use a scratch one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's test tools (tests/teams) and the checkout
sys.path.insert(0, str(ROOT / "bench"))

from slack_http import free_port, log_cases, percentile, stop, wait_until_up  # noqa: E402

VERB = "act"


def serve_bare(port: int) -> None:
    """The floor: the Agents SDK's app behind its JWT check, answering ``act`` with a card."""
    from aiohttp import web
    from microsoft_agents.activity import AdaptiveCardInvokeResponse
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.aiohttp import (
        CloudAdapter,
        jwt_authorization_decorator,
        start_agent_process,
    )
    from microsoft_agents.hosting.core import (
        AgentApplication,
        ApplicationOptions,
        MemoryStorage,
        TurnState,
    )

    from bot.teams.server import TEST_KEYS, trust_test_keys
    from bot.teams.settings import TeamsSettings

    settings = TeamsSettings.from_env()
    trust_test_keys(os.environ[TEST_KEYS])
    connections = MsalConnectionManager(**settings.sdk)
    app: AgentApplication[TurnState] = AgentApplication[TurnState](
        ApplicationOptions(storage=MemoryStorage(), start_typing_timer=False,
                           bot_app_id=settings.client_id), connection_manager=connections)
    adapter = CloudAdapter(connection_manager=connections)
    card = {"type": "AdaptiveCard", "version": "1.5",
            "body": [{"type": "TextBlock", "text": "Taken."}]}

    async def taken(context, state, data) -> AdaptiveCardInvokeResponse:
        return AdaptiveCardInvokeResponse(status_code=200,
                                          type="application/vnd.microsoft.card.adaptive",
                                          value=card)

    app.adaptive_card.action_execute(VERB)(taken)

    async def messages(request: web.Request) -> web.StreamResponse:
        async def agent(checked: web.Request) -> web.StreamResponse:
            return await start_agent_process(checked, app, adapter) or web.Response(
                status=202)
        return await jwt_authorization_decorator(agent)(request)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application()
    application["agent_configuration"] = connections.get_default_connection_configuration()
    application.router.add_post("/api/messages", messages)
    application.router.add_get("/healthz", health)
    web.run_app(application, host="127.0.0.1", port=port, access_log=None, print=None)


def link_to_teams(url: str) -> int:
    """The teacher and DPO that ``log_cases`` made, linked to their Teams accounts."""
    from sqlmodel import select

    from workflows.database import make_engine, session_scope
    from workflows.people.models import Person

    engine = make_engine(url)
    with session_scope(engine) as session:
        for person in session.exec(select(Person)).all():
            person.teams_user_id = "29:dee" if person.name == "Dee Dpo" else "29:sam"
        school_id = session.exec(select(Person)).first().school_id  # type: ignore[union-attr]
    engine.dispose()
    return school_id


async def drive(url: str, bodies: list[bytes], tokens: list[str], concurrency: int
                ) -> tuple[float, list[float], int]:
    import aiohttp

    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(url, data=bodies[index], headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {tokens[index]}"}) as answer:
                await answer.read()
                if answer.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=300)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, failures


def taken(url: str) -> int:
    from sqlalchemy import func, select

    from workflows.database import make_engine
    from workflows.people.models import Person
    from workflows.sar.models import RightsRequest

    engine = make_engine(url)
    with engine.connect() as connection:
        dpo = connection.execute(select(Person.id).where(Person.name == "Dee Dpo")).scalar_one()
        found = connection.execute(select(func.count()).select_from(RightsRequest).where(
            RightsRequest.owner_id == dpo)).scalar_one()
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="PostgreSQL URL of a SCRATCH database (emptied)")
    parser.add_argument("--cases", type=int, default=1000, help="decisions to send")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=30,
                        help="extra clicks sent to each server first, untimed")
    parser.add_argument("--workers", type=int,
                        help="dpo-bot teams --workers (default: its own, 2 on PostgreSQL)")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    if not args.database:
        parser.error("--database is required (a scratch PostgreSQL database)")

    from sqlalchemy import text

    from tests.teams.microsoft import Microsoft
    from workflows.database import make_engine, upgrade

    console = Console(width=max(Console().width, 110))
    engine = make_engine(args.database)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    total = args.cases + args.warmup
    _, references = log_cases(args.database, total)
    school_id = link_to_teams(args.database)
    console.print(f"{len(references)} SARs logged through the core")

    with tempfile.TemporaryDirectory() as scratch, Microsoft(Path(scratch)) as microsoft:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CONNECTIONS__") and k != "DPO_BOT_DATABASE_URL"}
        env |= microsoft.env() | {"DPO_BOT_DATABASE_URL": args.database,
                                  "PYTHONPATH": str(ROOT)}
        real_port, bare_port = free_port(), free_port()
        real_log, bare_log = Path(scratch) / "real.log", Path(scratch) / "bare.log"
        real = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "teams", "--host", "127.0.0.1", "--port",
             str(real_port), *([] if args.workers is None else ["--workers", str(args.workers)])],
            env=env, cwd=ROOT, stdout=real_log.open("w"),
            stderr=subprocess.STDOUT)
        bare = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(bare_port)], env=env, cwd=ROOT,
            stdout=bare_log.open("w"), stderr=subprocess.STDOUT)
        try:
            wait_until_up(real, f"http://127.0.0.1:{real_port}/healthz", real_log)
            wait_until_up(bare, f"http://127.0.0.1:{bare_port}/healthz", bare_log)
            clicks = [json.dumps(microsoft.activity(
                "dee", type="invoke", name="adaptiveCard/action", replyToId=f"alert-{n}",
                value={"action": {"type": "Action.Execute", "verb": VERB, "data": {
                    "action": "take", "value": f"{reference}|1|{school_id}"}},
                    "trigger": "manual"})).encode() for n, reference in enumerate(references)]
            tokens = [microsoft.token() for _ in clicks]
            warm, timed = slice(0, args.warmup), slice(args.warmup, None)
            results = {}
            for label, port in (("bare Agents SDK app", bare_port),
                                ("dpo-bot teams", real_port)):
                url = f"http://127.0.0.1:{port}/api/messages"
                asyncio.run(drive(url, clicks[warm], tokens[warm], args.concurrency))
                results[label] = asyncio.run(drive(url, clicks[timed], tokens[timed],
                                                   args.concurrency))
            done = taken(args.database) - args.warmup
        finally:
            stop(real)
            stop(bare)
        log = real_log.read_text()
    if "Traceback" in log:
        console.print(log[-3000:])

    table = Table(title=f"Teams: {args.cases:,} signed 'Take the case' invokes, "
                        f"{args.concurrency} in flight")
    for column in ("server", "requests/s", "p50", "p99", "non-200"):
        table.add_column(column, justify="right")
    for label, (seconds, latencies, failures) in results.items():
        table.add_row(label, f"{len(latencies) / seconds:,.0f}",
                      f"{statistics.median(latencies) * 1000:.1f} ms",
                      f"{percentile(latencies, 0.99) * 1000:.1f} ms", str(failures))
    (bare_s, bare_l, _), (real_s, real_l, _) = results.values()
    table.add_row("ratio (dpo-bot / bare)",
                  f"{(len(real_l) / real_s) / (len(bare_l) / bare_s):.2f}",
                  f"{statistics.median(real_l) / statistics.median(bare_l):.2f}x",
                  f"{percentile(real_l, 0.99) / percentile(bare_l, 0.99):.2f}x", "")
    average = os.getloadavg()
    table.caption = (f"{done:,} of {args.cases:,} cases taken = {done / real_s:,.0f} "
                     f"decisions/s (each answered once decided); PostgreSQL; "
                     f"{os.cpu_count()} CPUs shared by the load generator, both servers, "
                     f"PostgreSQL and the local Microsoft; load average {average[0]:.2f} "
                     f"{average[1]:.2f} {average[2]:.2f} at the end")
    console.print(table)


if __name__ == "__main__":
    main()
