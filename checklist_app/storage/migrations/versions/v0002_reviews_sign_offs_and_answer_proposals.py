"""reviews, sign-offs and answer proposals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:08:49

Rules: never edit a released revision; write data migrations with plain SQL or `sa.table()`,
never with the models (they change); datetimes are `sa.DateTime(timezone=True)` in UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_by", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_answer_proposals_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_proposals")),
    )
    op.create_index(op.f("ix_answer_proposals_project_id_state"), "answer_proposals",
                    ["project_id", "state"], unique=False)
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("commit_sha", sa.Text(), nullable=True),
        sa.Column("tag", sa.Text(), nullable=True),
        sa.Column("tag_exact", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_reviews_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_project_id_started_at"), "reviews",
                    ["project_id", "started_at"], unique=False)
    op.create_table(
        "review_sign_offs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"],
                                name=op.f("fk_review_sign_offs_review_id_reviews"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_sign_offs")),
    )
    op.create_index(op.f("ix_review_sign_offs_review_id"), "review_sign_offs", ["review_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_review_sign_offs_review_id"), table_name="review_sign_offs")
    op.drop_table("review_sign_offs")
    op.drop_index(op.f("ix_reviews_project_id_started_at"), table_name="reviews")
    op.drop_table("reviews")
    op.drop_index(op.f("ix_answer_proposals_project_id_state"), table_name="answer_proposals")
    op.drop_table("answer_proposals")
