"""google chat: one person per Google Chat user

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 16:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('google_chat_user_id',
                                      sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_person_google_chat_user_id'),
                              ['google_chat_user_id'], unique=False)
        batch_op.create_unique_constraint('uq_person_school_google_chat',
                                          ['school_id', 'google_chat_user_id'])


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_constraint('uq_person_school_google_chat', type_='unique')
        batch_op.drop_index(batch_op.f('ix_person_google_chat_user_id'))
        batch_op.drop_column('google_chat_user_id')
