"""Engine: workflow registry, runs, task runs, attempts, the hot queue, workers, logs, outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

from migrations.helpers import script, tenant_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TERMINAL = "('succeeded', 'failed', 'cancelled')"


def upgrade() -> None:
    script(f"""
    CREATE TABLE workflows (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.:-]{{1,100}}$'),
      latest_version integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, name)
    );

    CREATE TABLE workflow_versions (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      workflow_id uuid NOT NULL,
      version integer NOT NULL CHECK (version > 0),
      checksum text NOT NULL,
      definition jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, workflow_id, version),
      UNIQUE (tenant_id, workflow_id, checksum),
      FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
    );

    CREATE TABLE workflow_runs (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      workflow_id uuid NOT NULL,
      version_id uuid NOT NULL,
      workflow_name text NOT NULL,
      status text NOT NULL CHECK (status IN
        ('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
      input jsonb NOT NULL DEFAULT '{{}}',
      output jsonb,
      error text,
      metadata jsonb NOT NULL DEFAULT '{{}}',
      priority smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 3),
      pending_tasks integer NOT NULL CHECK (pending_tasks >= 0),
      idempotency_key text CHECK (length(idempotency_key) <= 255),
      request_hash bytea,
      parent_run_id uuid,
      parent_task_run_id uuid,
      child_key text,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, version_id) REFERENCES workflow_versions (tenant_id, id),
      CHECK ((status IN {TERMINAL}) = (finished_at IS NOT NULL)),
      CHECK ((status IN {TERMINAL}) OR pending_tasks > 0)
    );
    CREATE UNIQUE INDEX workflow_runs_idempotency ON workflow_runs (tenant_id, idempotency_key)
      WHERE idempotency_key IS NOT NULL;
    CREATE UNIQUE INDEX workflow_runs_child_key ON workflow_runs (tenant_id, parent_task_run_id,
      child_key) WHERE child_key IS NOT NULL;
    CREATE INDEX workflow_runs_by_status ON workflow_runs (tenant_id, status, id DESC);
    CREATE INDEX workflow_runs_by_workflow ON workflow_runs (tenant_id, workflow_name, id DESC);
    -- retention sweeps finished runs across tenants, oldest first
    CREATE INDEX workflow_runs_finished ON workflow_runs (finished_at)
      WHERE finished_at IS NOT NULL;
    CREATE INDEX workflow_runs_by_parent ON workflow_runs (tenant_id, parent_run_id)
      WHERE parent_run_id IS NOT NULL;

    CREATE TABLE task_runs (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      run_id uuid NOT NULL,
      task_name text NOT NULL,
      action text NOT NULL,
      status text NOT NULL CHECK (status IN
        ('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
      attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
      max_attempts integer NOT NULL CHECK (max_attempts >= 1),
      pending_parents integer NOT NULL CHECK (pending_parents >= 0),
      priority smallint NOT NULL DEFAULT 2,
      execution_timeout real NOT NULL DEFAULT 60 CHECK (execution_timeout > 0),
      backoff_factor real NOT NULL DEFAULT 2 CHECK (backoff_factor >= 1),
      backoff_max real NOT NULL DEFAULT 3600 CHECK (backoff_max > 0),
      rescues integer NOT NULL DEFAULT 0 CHECK (rescues >= 0),
      releases integer NOT NULL DEFAULT 0 CHECK (releases >= 0),
      is_leaf boolean NOT NULL DEFAULT false,
      kind text NOT NULL DEFAULT 'task' CHECK (kind IN ('task', 'on_failure')),
      schedule_timeout real CHECK (schedule_timeout > 0),
      schedule_deadline_at timestamptz,
      worker_id uuid,
      lease_id uuid,
      lease_expires_at timestamptz,
      deadline_at timestamptz,
      retry_at timestamptz,
      wait_reason text,
      output jsonb,
      error text,
      queued_at timestamptz,
      started_at timestamptz,
      finished_at timestamptz,
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, run_id, task_name),
      FOREIGN KEY (tenant_id, run_id) REFERENCES workflow_runs (tenant_id, id) ON DELETE CASCADE,
      CHECK (status <> 'running' OR (lease_id IS NOT NULL AND worker_id IS NOT NULL
                                     AND lease_expires_at IS NOT NULL AND started_at IS NOT NULL)),
      CHECK ((status IN {TERMINAL}) = (finished_at IS NOT NULL)),
      CHECK (status <> 'queued' OR pending_parents = 0)
    );
    -- the lease reaper and timers sweep across tenants (kiln_engine), hence no tenant prefix
    CREATE INDEX task_runs_leases ON task_runs (lease_expires_at) WHERE status = 'running';
    CREATE INDEX task_runs_deadlines ON task_runs (deadline_at)
      WHERE status = 'running' AND deadline_at IS NOT NULL;
    CREATE INDEX task_runs_schedule_deadlines ON task_runs (schedule_deadline_at)
      WHERE status = 'queued' AND schedule_deadline_at IS NOT NULL;
    CREATE INDEX task_runs_retries ON task_runs (retry_at)
      WHERE status = 'pending' AND retry_at IS NOT NULL;
    CREATE INDEX task_runs_by_worker ON task_runs (tenant_id, worker_id) WHERE status = 'running';

    CREATE TABLE task_attempts (
      tenant_id uuid NOT NULL,
      task_run_id uuid NOT NULL,
      attempt integer NOT NULL,
      run_id uuid NOT NULL,
      worker_id uuid,
      status text NOT NULL CHECK (status IN ('succeeded', 'failed', 'cancelled', 'lost',
                                              'timed_out', 'released')),
      started_at timestamptz NOT NULL,
      finished_at timestamptz NOT NULL DEFAULT now(),
      error text,
      traceback text,
      PRIMARY KEY (tenant_id, task_run_id, attempt),
      FOREIGN KEY (tenant_id, task_run_id) REFERENCES task_runs (tenant_id, id) ON DELETE CASCADE
    );

    -- The hot table: only what is ready to run. Claiming deletes from it. Narrow on purpose.
    CREATE TABLE queue_items (
      tenant_id uuid NOT NULL,
      id bigint GENERATED ALWAYS AS IDENTITY,
      action text NOT NULL,
      priority smallint NOT NULL,
      task_run_id uuid NOT NULL,
      PRIMARY KEY (tenant_id, id)
    ) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01);
    CREATE INDEX queue_items_claim ON queue_items (tenant_id, action, priority DESC, id);

    CREATE TABLE workers (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      actions text[] NOT NULL,
      slots integer NOT NULL CHECK (slots BETWEEN 1 AND 10000),
      labels jsonb NOT NULL DEFAULT '{{}}',
      status text NOT NULL CHECK (status IN ('active', 'lost', 'stopped')),
      registered_at timestamptz NOT NULL DEFAULT now(),
      last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
      stopped_at timestamptz,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE INDEX workers_liveness ON workers (last_heartbeat_at) WHERE status = 'active';

    CREATE TABLE task_logs (
      tenant_id uuid NOT NULL,
      id bigint GENERATED ALWAYS AS IDENTITY,
      task_run_id uuid NOT NULL,
      run_id uuid NOT NULL,
      attempt integer NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      level text NOT NULL DEFAULT 'info',
      message text NOT NULL,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE INDEX task_logs_by_task ON task_logs (tenant_id, task_run_id, id);

    -- Lifecycle events, written in the transaction of the state change they describe; the
    -- relay (plugins, alerts) consumes them after commit. Never lost, delivered at least once.
    CREATE TABLE outbox (
      tenant_id uuid NOT NULL,
      id bigint GENERATED ALWAYS AS IDENTITY,
      event text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    );
    CREATE INDEX outbox_order ON outbox (id);
    """)
    all_rw = "SELECT, INSERT, UPDATE, DELETE"
    tenant_table("workflows", engine_privileges="SELECT")
    tenant_table("workflow_versions", engine_privileges="SELECT")
    tenant_table("workflow_runs", engine_privileges=all_rw)
    tenant_table("task_runs", engine_privileges=all_rw)
    tenant_table("task_attempts", engine_privileges="SELECT, INSERT")
    tenant_table("queue_items", engine_privileges="SELECT, INSERT, DELETE")
    tenant_table("workers", engine_privileges="SELECT, UPDATE")
    tenant_table("task_logs", tenant_privileges="SELECT, INSERT",
                 engine_privileges="SELECT, DELETE")
    tenant_table("outbox", tenant_privileges="INSERT", engine_privileges=all_rw)


def downgrade() -> None:
    op.execute(
        "DROP TABLE outbox, task_logs, workers, queue_items, task_attempts, task_runs,"
        " workflow_runs, workflow_versions, workflows CASCADE"
    )
