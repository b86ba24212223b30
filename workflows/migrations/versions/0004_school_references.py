"""school references: each school numbers its own cases, per prefix and year

A reference was the row id (unique across the deployment), so a school's first SAR could be
SAR-2026-0413. Now a counter per school, prefix and year hands out the numbers, and a
reference is unique within its school only. Existing references stay as they are; each
counter starts from the school's highest number so far, so nothing is given out twice.

Downgrading restores the deployment-wide unique constraint, so it fails once two schools
hold the same reference (which is the point of this revision).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:07:25.557921
"""

import re

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

CASE_TABLES = ('rights_request', 'breach', 'software_request')
# SQLite keeps 0001's and 0002's unnamed UNIQUE (reference) as an automatic index that only a
# table rebuild removes; naming reflected unnamed constraints lets the rebuild leave it out.
UNNAMED = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}
REFERENCE = re.compile(r'^([A-Z]+)-(\d{4})-(\d+)$')  # as engine.assign_reference writes them


def upgrade() -> None:
    counter = op.create_table('reference_counter',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'prefix', 'year')
    )
    for table in CASE_TABLES:
        old = _unique_on_reference(table)
        with op.batch_alter_table(table, naming_convention=UNNAMED) as batch_op:
            batch_op.drop_constraint(old, type_='unique')
            batch_op.create_unique_constraint(
                f'uq_{table}_school_reference', ['school_id', 'reference'])
    _seed(counter)


def downgrade() -> None:
    for table in reversed(CASE_TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_school_reference', type_='unique')
            # PostgreSQL's own name for 0001's unnamed constraint, so 0003's schema is back.
            batch_op.create_unique_constraint(f'{table}_reference_key', ['reference'])
    op.drop_table('reference_counter')


def _unique_on_reference(table: str) -> str:
    """The deployment-wide unique constraint's name (PostgreSQL: ``breach_reference_key``).

    SQLite reflects it without a name; the batch rebuild then names it by ``UNNAMED``.
    """
    for found in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if found['column_names'] == ['reference']:
            return found['name'] or UNNAMED['uq'] % {'table_name': table,
                                                     'column_0_name': 'reference'}
    raise RuntimeError(f'{table} has no unique constraint on reference to replace')


def _seed(counter: sa.Table) -> None:
    """Each school's counters start at its highest existing number per prefix and year.

    A reference that does not have the generated form cannot clash with a generated one, so
    it is left out. Streamed: a large deployment's cases are not all held in memory at once.
    """
    highest: dict[tuple[int, str, int], int] = {}
    bind = op.get_bind()
    for table in CASE_TABLES:
        # On the statement: a connection's own options would stay for the rest of the upgrade.
        rows = bind.execute(sa.text(
            f'SELECT school_id, reference FROM {table} WHERE reference IS NOT NULL'
        ).execution_options(stream_results=True, yield_per=5000))
        for school_id, reference in rows:
            parts = REFERENCE.match(reference)
            if parts is None:
                continue
            key = (school_id, parts[1], int(parts[2]))
            highest[key] = max(highest.get(key, 0), int(parts[3]))
    if highest:
        op.bulk_insert(counter, [
            {'school_id': school_id, 'prefix': prefix, 'year': year, 'last': last}
            for (school_id, prefix, year), last in sorted(highest.items())])
