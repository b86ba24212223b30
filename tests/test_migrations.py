"""The migrations build exactly the schema the models declare, on both databases.

Once a migration has shipped it is never edited: a model change needs a new revision,
or this test fails (an existing school's database would otherwise miss the change).
"""

from __future__ import annotations

from importlib import resources

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from workflows.database import upgrade
from workflows.tables import metadata


def test_migrations_match_the_models(engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == [], "models changed without a migration: add an Alembic revision"


def test_upgrading_twice_changes_nothing(engine) -> None:
    upgrade(engine)  # the fixture already upgraded once
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    migrations = ScriptDirectory(str(resources.files("workflows").joinpath("migrations")))
    assert current == migrations.get_current_head()


def test_migrations_form_one_line() -> None:
    """Two revisions written side by side on one base would leave Alembic with two heads."""
    migrations = ScriptDirectory(str(resources.files("workflows").joinpath("migrations")))
    assert len(migrations.get_heads()) == 1
