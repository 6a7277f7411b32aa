"""Flow control: queue rank (priority with aging), the flow-controlled queue, concurrency holds,
rate limits with their strategy state, and each run's sticky worker.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from alembic import op

from migrations.helpers import script, tenant_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    script("""
    -- Claim order is `rank`: the enqueue time plus a head start per priority level (aging rule,
    -- docs/flow-control.md). Same single index scan as before, one column wider.
    ALTER TABLE queue_items ADD COLUMN rank timestamptz NOT NULL DEFAULT now();
    DROP INDEX queue_items_claim;
    CREATE INDEX queue_items_claim ON queue_items (tenant_id, action, rank, id);

    -- Flow data evaluated at trigger time (concurrency keys, rate-limit keys and units, the
    -- round-robin group); NULL for a task without flow control, which stays on the fast path.
    ALTER TABLE task_runs ADD COLUMN flow jsonb;
    -- The worker that ran the run's first task, for sticky workflows.
    ALTER TABLE workflow_runs ADD COLUMN sticky_worker_id uuid;
    -- A tenant's live workers (label preferences and sticky runs look them up at claim time).
    CREATE INDEX workers_active ON workers (tenant_id) WHERE status = 'active';

    -- Ready flow-controlled tasks. The fast claim never reads it; the flow claim walks it one
    -- round-robin group at a time (group_key is bytewise-ordered so the rotation is exact).
    CREATE TABLE flow_queue (
      tenant_id uuid NOT NULL,
      id bigint GENERATED ALWAYS AS IDENTITY,
      action text NOT NULL,
      group_key text COLLATE "C" NOT NULL DEFAULT '',
      rank timestamptz NOT NULL,
      task_run_id uuid NOT NULL,
      run_id uuid NOT NULL,
      flow jsonb NOT NULL,
      enqueued_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    ) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01);
    CREATE INDEX flow_queue_claim ON flow_queue (tenant_id, action, group_key, rank, id);
    CREATE INDEX flow_queue_by_run ON flow_queue (tenant_id, run_id);

    -- Who holds a concurrency slot. A hold counts only while its holder is still running (task
    -- scope) or unfinished (run scope), so no code path has to remember to release it: stale
    -- holds are ignored and deleted by the next decision on their key.
    CREATE TABLE concurrency_holds (
      tenant_id uuid NOT NULL,
      key text NOT NULL CHECK (length(key) <= 600),
      holder_id uuid NOT NULL,                      -- a run id (scope run) or a task run id
      run_id uuid NOT NULL,
      scope text NOT NULL CHECK (scope IN ('run', 'task')),
      strategy text NOT NULL CHECK (strategy IN
        ('GROUP_ROUND_ROBIN', 'CANCEL_IN_PROGRESS', 'CANCEL_NEWEST')),
      acquired_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, key, holder_id),
      FOREIGN KEY (tenant_id, run_id) REFERENCES workflow_runs (tenant_id, id) ON DELETE CASCADE
    );

    -- Rate limits: one row per key, set through the API (source 'api') or created the first time
    -- a dynamic key is used (source 'dynamic'). `state` is the strategy's, written with the row
    -- locked, so a limit holds across server replicas.
    CREATE TABLE rate_limits (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
      source text NOT NULL CHECK (source IN ('api', 'dynamic')),
      "limit" integer CHECK ("limit" > 0),
      window_seconds real CHECK (window_seconds > 0),
      strategy text CHECK (length(strategy) BETWEEN 1 AND 100),
      config jsonb NOT NULL DEFAULT '{}',
      state jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, key),
      CHECK (source <> 'api' OR ("limit" IS NOT NULL AND window_seconds IS NOT NULL))
    );

    -- A tenant's choice of rate-limit strategy for keys that name none.
    CREATE TABLE rate_limit_settings (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      default_strategy text NOT NULL CHECK (length(default_strategy) BETWEEN 1 AND 100),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id)
    );
    """)
    # The engine loops re-queue flow tasks (retries, rescues) and so write flow_queue.
    tenant_table("flow_queue", engine_privileges="SELECT, INSERT, DELETE")
    tenant_table("concurrency_holds", engine_privileges="SELECT, INSERT, DELETE")
    tenant_table("rate_limits")
    tenant_table("rate_limit_settings")


def downgrade() -> None:
    op.execute("DROP TABLE rate_limit_settings, rate_limits, concurrency_holds, flow_queue")
    op.execute("DROP INDEX workers_active")
    op.execute("ALTER TABLE workflow_runs DROP COLUMN sticky_worker_id")
    op.execute("ALTER TABLE task_runs DROP COLUMN flow")
    op.execute("DROP INDEX queue_items_claim")
    op.execute("ALTER TABLE queue_items DROP COLUMN rank")
    op.execute("CREATE INDEX queue_items_claim ON queue_items (tenant_id, action, priority DESC,"
               " id)")
