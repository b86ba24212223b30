"""the school's postal address and letterhead, for letters as Word documents; what the
privacy notice's software list says about each product (year groups, storage, the vendor's
privacy notice)

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
    with op.batch_alter_table('software', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year_groups', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('storage', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('privacy_notice', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('software', schema=None) as batch_op:
        batch_op.drop_column('privacy_notice')
        batch_op.drop_column('storage')
        batch_op.drop_column('year_groups')
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('letterhead')
        batch_op.drop_column('address')
