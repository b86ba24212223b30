"""outward letters and honest decisions: the DPO's own accounts for breach letters, an
exemption's override reason, and a software approval's DPIA outcome

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.add_column(sa.Column('people_override', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('ico_account', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('people_account', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('people_advice', sa.Text(), nullable=True))
    with op.batch_alter_table('software_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dpia_outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('dpia_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('software_request', schema=None) as batch_op:
        batch_op.drop_column('dpia_note')
        batch_op.drop_column('dpia_outcome')
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.drop_column('people_advice')
        batch_op.drop_column('people_account')
        batch_op.drop_column('ico_account')
        batch_op.drop_column('people_override')
