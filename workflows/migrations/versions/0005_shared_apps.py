"""shared apps: one Slack app or Teams bot for several schools

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:20:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import workflows.database


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chosen_school',
    sa.Column('adapter', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('chosen_at', workflows.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('adapter', 'account')
    )
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_domains', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('email_domains')
    op.drop_table('chosen_school')
