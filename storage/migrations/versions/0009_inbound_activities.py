"""inbound activities; reminders by subject and kind

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbound_activities',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_inbound_activities'))
    )
    with op.batch_alter_table('inbound_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_activities_received_at'), ['received_at'], unique=False)

    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index('ix_reminders_subject_kind', ['subject_id', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_subject_kind')

    with op.batch_alter_table('inbound_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_activities_received_at'))

    op.drop_table('inbound_activities')
