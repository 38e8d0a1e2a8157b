"""certificates and their status changes

Revision ID: 0002_certificates
Revises: 0001
Create Date: 2026-12-04 19:10:00

"""

import sqlalchemy as sa
from alembic import op

import web.models.types

revision = "0002_certificates"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("target_hash", sa.String(length=64), nullable=False),
        sa.Column("exam_score", sa.Double(), nullable=False),
        sa.Column("issued_at", web.models.types.UTCDateTime(), nullable=False),
        sa.Column("anchor_txid", sa.String(length=64), nullable=True),
        sa.Column("anchored_at", web.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_certificate_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_certificate_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("status_index", name=op.f("uq_certificate_status_index")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certificate_anchor_txid"), ["anchor_txid"], unique=False
        )
    op.create_table(
        "certificate_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", web.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_certificate_status_change_certificate_id_certificate"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
            name=op.f("fk_certificate_status_change_actor_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_status_change")),
    )
    with op.batch_alter_table("certificate_status_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_status_change_certificate_id"),
            ["certificate_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("certificate_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_status_change_certificate_id"))
    op.drop_table("certificate_status_change")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_anchor_txid"))
        batch_op.drop_index(batch_op.f("ix_certificate_course_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_user_id"))
    op.drop_table("certificate")
