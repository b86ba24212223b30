"""breach triage: the facts that decide the risk (availability, recipient, deletion, intent)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:20:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unavailable', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('deleted', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('deliberate', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('recipients', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.drop_column('recipients')
        batch_op.drop_column('deliberate')
        batch_op.drop_column('deleted')
        batch_op.drop_column('recipient')
        batch_op.drop_column('unavailable')
