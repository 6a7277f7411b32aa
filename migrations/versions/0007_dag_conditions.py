"""DAG conditions: a task may be `skipped` (its skip_if was met, or its wait_for can never be),
and a task waiting on its wait_for/skip_if/cancel_if conditions keeps one `durable_waits` row
(mode `dag`, seq 0) that the durable timer sweep and event ingest wake (docs/durable.md,
"Conditions in DAGs").

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from migrations.helpers import script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# The 0002 checks on task status are unnamed; find them by what they say, not by generated names.
DROP_TASK_STATUS_CHECKS = """
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
           WHERE conrelid = 'task_runs'::regclass AND contype = 'c'
             AND (pg_get_constraintdef(oid) LIKE '%finished_at IS NOT NULL%'
                  OR pg_get_constraintdef(oid) LIKE '%''pending''::text, ''queued''%')
  LOOP
    EXECUTE format('ALTER TABLE task_runs DROP CONSTRAINT %I', c.conname);
  END LOOP;
END $$;
"""


def _replace_task_checks(statuses: str, terminal: str) -> None:
    script(DROP_TASK_STATUS_CHECKS)
    script(f"""
    ALTER TABLE task_runs ADD CONSTRAINT task_runs_status_check CHECK (status IN {statuses});
    ALTER TABLE task_runs ADD CONSTRAINT task_runs_finished_check
      CHECK ((status IN {terminal}) = (finished_at IS NOT NULL));
    """)


def upgrade() -> None:
    _replace_task_checks(
        "('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')",
        "('succeeded', 'failed', 'cancelled', 'skipped')")
    script("""
    ALTER TABLE durable_waits DROP CONSTRAINT durable_waits_mode_check;
    ALTER TABLE durable_waits ADD CONSTRAINT durable_waits_mode_check
      CHECK (mode IN ('any', 'all', 'dag'));
    -- A conditioned task can become ready in an engine transaction (its parent was skipped by a
    -- timer): registering its wait there inserts the row and looks for events already stored.
    GRANT INSERT ON durable_waits TO kiln_engine;
    CREATE POLICY engine_all ON events TO kiln_engine USING (true) WITH CHECK (true);
    GRANT SELECT ON events TO kiln_engine;
    """)


def downgrade() -> None:
    script("""
    REVOKE SELECT ON events FROM kiln_engine;
    DROP POLICY engine_all ON events;
    REVOKE INSERT ON durable_waits FROM kiln_engine;
    DELETE FROM durable_waits WHERE mode = 'dag';
    ALTER TABLE durable_waits DROP CONSTRAINT durable_waits_mode_check;
    ALTER TABLE durable_waits ADD CONSTRAINT durable_waits_mode_check
      CHECK (mode IN ('any', 'all'));
    UPDATE task_runs SET status = 'cancelled', error = 'skipped' WHERE status = 'skipped';
    """)
    _replace_task_checks("('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled')",
                         "('succeeded', 'failed', 'cancelled')")
