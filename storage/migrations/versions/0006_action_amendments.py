"""action amendments between conferences

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:01:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('action_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('before', sa.String(length=80), nullable=True),
    sa.Column('after', sa.String(length=80), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_amendments_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_action_amendments_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_amendments'))
    )
    with op.batch_alter_table('action_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_amendments_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_amendments_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('action_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_amendments_case_id'))
        batch_op.drop_index(batch_op.f('ix_action_amendments_action_id'))

    op.drop_table('action_amendments')
