"""cells: where the text came from (text layer or OCR) and the recogniser's own reading

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cell") as batch:
        batch.add_column(sa.Column("source", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("read_as", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cell") as batch:
        batch.drop_column("read_as")
        batch.drop_column("source")
