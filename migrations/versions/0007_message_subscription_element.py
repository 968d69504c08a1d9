"""message subscriptions name the element that waits

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:20:00

A subscription recorded only the message it waits for; the dashboard's heat map needs the catching
element. Rows written before stay without one (the next step of their instance rewrites them).
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message_subscription') as batch_op:
        batch_op.add_column(sa.Column('task_spec_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message_subscription') as batch_op:
        batch_op.drop_column('task_spec_id')
