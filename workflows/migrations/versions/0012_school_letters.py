"""the school's postal address and letterhead, for letters as Word documents

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 16:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('letterhead', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('letterhead')
        batch_op.drop_column('address')
