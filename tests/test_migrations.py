"""The migrations build exactly the schema the models declare, on both databases.

Once a migration has shipped it is never edited: a model change needs a new revision,
or this test fails (an existing school's database would otherwise miss the change).
These tests run the migrations for real on an empty database (``migrated_engine``); every
other test gets a copy of a database migrated once per session (tests/databases.py).
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from workflows.database import upgrade
from workflows.tables import metadata


def test_migrations_match_the_models(migrated_engine) -> None:
    with migrated_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == [], "models changed without a migration: add an Alembic revision"


def test_upgrading_twice_changes_nothing(migrated_engine) -> None:
    upgrade(migrated_engine)  # the fixture already upgraded once
    with migrated_engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    migrations = ScriptDirectory(str(resources.files("workflows").joinpath("migrations")))
    assert current == migrations.get_current_head()


def test_every_migration_goes_down_and_up_again(migrated_engine) -> None:
    """A release rolled back: down to nothing, one revision at a time, then up to head."""
    config = Config()
    config.set_main_option("script_location",
                           str(resources.files("workflows").joinpath("migrations")))
    with migrated_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        assert inspect(connection).get_table_names() == ["alembic_version"]
    upgrade(migrated_engine)
    test_migrations_match_the_models(migrated_engine)


def test_migrations_form_one_line() -> None:
    """Two revisions written side by side on one base would leave Alembic with two heads."""
    migrations = ScriptDirectory(str(resources.files("workflows").joinpath("migrations")))
    assert len(migrations.get_heads()) == 1
