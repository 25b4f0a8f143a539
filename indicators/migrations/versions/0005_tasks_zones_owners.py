"""tasks, zones and owners: the task register and its status history, region parents, indicator owners and
release rules, agencies, and editors scoped to an agency

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("regions", sa.Column("parent", sa.String(length=60), nullable=True))
    op.add_column("indicators", sa.Column("owner", sa.String(length=60), nullable=True))
    op.add_column("indicators", sa.Column("release_rule", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("agency", sa.String(length=60), nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite does not enforce lengths; "task_status" needs 11
        op.alter_column("batches", "kind", type_=sa.String(length=20), existing_type=sa.String(length=10),
                        existing_nullable=False)
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_agencies")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("pillar", sa.String(length=40), nullable=False),
        sa.Column("section_zh", sa.Text(), nullable=True),
        sa.Column("section_en", sa.Text(), nullable=True),
        sa.Column("lead", sa.String(length=60), nullable=True),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_table(
        "task_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_date", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("known_from", sa.DateTime(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("retracted_by_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_task_statuses_batch_id_batches")),
        sa.ForeignKeyConstraint(["retracted_by_batch_id"], ["batches.id"],
                                name=op.f("fk_task_statuses_retracted_by_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_statuses")),
    )
    op.create_index("ix_task_statuses_task", "task_statuses", ["task_id", "id"])
    op.create_index(op.f("ix_task_statuses_batch_id"), "task_statuses", ["batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_task_statuses_batch_id"), table_name="task_statuses")
    op.drop_index("ix_task_statuses_task", table_name="task_statuses")
    op.drop_table("task_statuses")
    op.drop_table("tasks")
    op.drop_table("agencies")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("batches", "kind", type_=sa.String(length=10), existing_type=sa.String(length=20),
                        existing_nullable=False)
    for table, column in (("users", "agency"), ("indicators", "release_rule"), ("indicators", "owner"),
                          ("regions", "parent")):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
