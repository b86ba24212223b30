"""consent lookups open to all staff unless a school restricts them to a list

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 09:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Schools already set up get the new default (DOMAIN.md 4): every member of staff may ask.
    with op.batch_alter_table('consent_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lookups_restricted', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('consent_setting', schema=None) as batch_op:
        batch_op.drop_column('lookups_restricted')
