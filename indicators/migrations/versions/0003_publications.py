"""publications: the documents values cite, and each value's publication

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("publisher_zh", sa.Text(), nullable=False),
        sa.Column("publisher_en", sa.Text(), nullable=False),
        sa.Column("title_zh", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("published_on", sa.String(length=10), nullable=True),
        sa.Column("date_basis", sa.String(length=20), nullable=False),
        sa.Column("official_url", sa.Text(), nullable=True),
        sa.Column("read_at", sa.JSON(), nullable=False),
        sa.Column("accessed_on", sa.String(length=10), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("from_upload", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )
    # plain columns (no foreign key): values are checked against publications when they are written
    for table in ("observations", "observation_history"):
        op.add_column(table, sa.Column("publication_id", sa.String(length=80), nullable=True))


def downgrade() -> None:
    for table in ("observation_history", "observations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("publication_id")
    op.drop_table("publications")
