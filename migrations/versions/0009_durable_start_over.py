"""Replaying a durable task starts it over: the replay deletes its durable log and waits and
leaves one marker entry (seq 0, kind `restart`) whose time opens the event window of the task's
first wait, so events from before the replay never satisfy it (docs/durable.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from migrations.helpers import script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    script("""
    ALTER TABLE durable_log DROP CONSTRAINT durable_log_seq_check;
    ALTER TABLE durable_log ADD CONSTRAINT durable_log_seq_check
      CHECK (seq BETWEEN 0 AND 100000 AND (seq = 0) = (kind = 'restart'));
    ALTER TABLE durable_log DROP CONSTRAINT durable_log_kind_check;
    ALTER TABLE durable_log ADD CONSTRAINT durable_log_kind_check
      CHECK (kind IN ('step', 'sleep', 'wait', 'spawn', 'restart'));
    GRANT DELETE ON durable_log, durable_waits TO kiln_tenant;
    """)


def downgrade() -> None:
    script("""
    REVOKE DELETE ON durable_log, durable_waits FROM kiln_tenant;
    DELETE FROM durable_log WHERE kind = 'restart';
    ALTER TABLE durable_log DROP CONSTRAINT durable_log_kind_check;
    ALTER TABLE durable_log ADD CONSTRAINT durable_log_kind_check
      CHECK (kind IN ('step', 'sleep', 'wait', 'spawn'));
    ALTER TABLE durable_log DROP CONSTRAINT durable_log_seq_check;
    ALTER TABLE durable_log ADD CONSTRAINT durable_log_seq_check CHECK (seq BETWEEN 1 AND 100000);
    """)
