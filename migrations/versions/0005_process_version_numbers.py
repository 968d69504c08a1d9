"""per-process version numbers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:05:00

Hand-written: existing versions are numbered 1, 2, 3… within their process in deployment order,
before the column becomes required and unique per process.
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
    versions = sa.table('process_version', sa.column('id', sa.Integer), sa.column('process_id', sa.String),
                        sa.column('number', sa.Integer))
    connection = op.get_bind()
    numbered: dict[str, int] = {}
    for version_id, process_id in connection.execute(
            sa.select(versions.c.id, versions.c.process_id).order_by(versions.c.id)).all():
        numbered[process_id] = numbered.get(process_id, 0) + 1
        connection.execute(versions.update().where(versions.c.id == version_id)
                           .values(number=numbered[process_id]))
    with op.batch_alter_table('process_version', schema=None) as batch_op:
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_process_version_number', ['process_id', 'number'])


def downgrade() -> None:
    with op.batch_alter_table('process_version', schema=None) as batch_op:
        batch_op.drop_constraint('uq_process_version_number', type_='unique')
        batch_op.drop_column('number')
