"""A database under load, for the Slack tests that prove an ack never waits for it.

Every SQL statement of the bot's engine can be slowed (``on``: each waits a little and notes
how many modals had been opened when it ran) or held (``hold``: each, and each new
connection, waits until ``release``), so a test can tell what Slack got while the database
had not answered yet, with no timing to guess.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event

from .test_slack_app import Workspace


class SlowDatabase:
    def __init__(self, ws: Workspace) -> None:
        self.opened_then: list[int] = []
        self.fake, self.on = ws.fake, False
        self.open = threading.Event()
        self.open.set()
        self.waited = 0  # statements that found the database held

        @event.listens_for(ws.engine, "before_cursor_execute")
        def slow(*_: Any) -> None:
            if self.on:
                self.opened_then.append(self.fake.count("views.open"))
                time.sleep(0.05)
            self.wait_if_held()

        @event.listens_for(ws.engine, "do_connect")
        def connecting(*_: Any) -> None:
            self.wait_if_held()  # then connects as it would have

    def wait_if_held(self) -> None:
        if not self.open.is_set():
            self.waited += 1
            assert self.open.wait(60), "the database was held and never released"

    def hold(self) -> None:
        """From now on every statement waits for ``release``."""
        self.open.clear()

    def release(self) -> None:
        self.open.set()
