"""imports and backlogs: notifications carry a delivery priority

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows already waiting are routine (3): only new ones can be told apart by kind here,
    # and a breach alert already waiting was written before anything could overtake it.
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False,
                                      server_default='3'))
        batch_op.create_index('ix_notification_waiting',
                              ['delivered_at', 'priority', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_waiting')
        batch_op.drop_column('priority')
