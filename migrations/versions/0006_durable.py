"""Durable tasks: each durable task run's append-only progress log, and its waits (sleeps and
events) that suspend it without holding a worker slot (docs/durable.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

from migrations.helpers import script, tenant_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    script("""
    -- One row per durable call of a task run, in call order (seq from 1). Never updated: a
    -- resumed attempt replays it, so memoized steps are not run again.
    CREATE TABLE durable_log (
      tenant_id uuid NOT NULL,
      task_run_id uuid NOT NULL,
      seq integer NOT NULL CHECK (seq BETWEEN 1 AND 100000),
      kind text NOT NULL CHECK (kind IN ('step', 'sleep', 'wait', 'spawn')),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
      result jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, task_run_id, seq),
      FOREIGN KEY (tenant_id, task_run_id) REFERENCES task_runs (tenant_id, id) ON DELETE CASCADE
    );

    -- A wait a durable task registered: its conditions, what matched so far, and when a timer
    -- is due. While it is open (satisfied_at NULL) its task is `pending` and holds no lease.
    CREATE TABLE durable_waits (
      tenant_id uuid NOT NULL,
      task_run_id uuid NOT NULL,
      seq integer NOT NULL,
      run_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('sleep', 'wait')),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
      mode text NOT NULL CHECK (mode IN ('any', 'all')),
      conditions jsonb NOT NULL,           -- [{"sleep_until": ts} | {"event", "filter", "scope"}]
      matched jsonb NOT NULL,              -- one entry per condition: null until it is met
      event_keys text[] NOT NULL DEFAULT '{}',  -- keys of the event conditions not met yet
      opened_at timestamptz NOT NULL,      -- events created after this may satisfy it
      wake_at timestamptz,                 -- the next due timer (a sleep or the timeout)
      timeout_at timestamptz,
      registered_at timestamptz NOT NULL DEFAULT now(),
      satisfied_at timestamptz,
      result jsonb,
      PRIMARY KEY (tenant_id, task_run_id, seq),
      FOREIGN KEY (tenant_id, task_run_id) REFERENCES task_runs (tenant_id, id) ON DELETE CASCADE
    );
    -- the timer sweep spans tenants (kiln_engine), hence no tenant prefix
    CREATE INDEX durable_waits_timers ON durable_waits (wake_at)
      WHERE satisfied_at IS NULL AND wake_at IS NOT NULL;
    CREATE INDEX durable_waits_open_keys ON durable_waits USING gin (event_keys)
      WHERE satisfied_at IS NULL;
    """)
    tenant_table("durable_log", tenant_privileges="SELECT, INSERT",
                 engine_privileges="SELECT, INSERT")
    tenant_table("durable_waits", tenant_privileges="SELECT, INSERT, UPDATE",
                 engine_privileges="SELECT, UPDATE")


def downgrade() -> None:
    op.execute("DROP TABLE durable_waits, durable_log")
