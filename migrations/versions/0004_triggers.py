"""Triggers: events (with the runs they started), event subscriptions, inbound webhooks (sealed
secrets, deliveries log doubling as replay protection, failed-verification counters), crons
(due-time rows claimed with SKIP LOCKED) and one-off schedules.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

from migrations.helpers import script, tenant_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    script("""
    CREATE TABLE events (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
      payload jsonb NOT NULL,
      metadata jsonb NOT NULL DEFAULT '{}',
      source text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'webhook')),
      webhook_id uuid,
      run_ids uuid[] NOT NULL DEFAULT '{}',        -- the runs this event started, in one txn
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      CHECK ((source = 'webhook') = (webhook_id IS NOT NULL))
    );
    CREATE INDEX events_by_key ON events (tenant_id, key, id DESC);
    CREATE INDEX events_by_webhook ON events (tenant_id, webhook_id, id DESC)
      WHERE webhook_id IS NOT NULL;

    -- The on_events patterns of each workflow's latest version (synced at registration), so
    -- an event finds its workflows with one indexed lookup: exact keys by (tenant, pattern),
    -- wildcard patterns (few per tenant) by the partial index, then matched in the server.
    CREATE TABLE event_subscriptions (
      tenant_id uuid NOT NULL,
      workflow_id uuid NOT NULL,
      pattern text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 255),
      wildcard boolean GENERATED ALWAYS AS (position('*' in pattern) > 0) STORED,
      filter text,                                  -- CEL over payload/metadata/key, or NULL
      PRIMARY KEY (tenant_id, workflow_id, pattern),
      FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
    );
    CREATE INDEX event_subscriptions_exact ON event_subscriptions (tenant_id, pattern)
      WHERE NOT wildcard;
    CREATE INDEX event_subscriptions_wildcard ON event_subscriptions (tenant_id) WHERE wildcard;

    CREATE TABLE webhooks (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      event_key text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 255),
      key_expression text,                          -- CEL over body/headers; event_key if NULL
      verifier text NOT NULL,
      config jsonb NOT NULL DEFAULT '{}',
      secret text,                                  -- crypto.SecretBox-sealed, never returned
      previous_secret text,                         -- still accepted until the time below
      previous_secret_expires_at timestamptz,
      enabled boolean NOT NULL DEFAULT true,
      failed_verifications bigint NOT NULL DEFAULT 0 CHECK (failed_verifications >= 0),
      last_failure_at timestamptz,
      last_failure_reason text,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, name),
      CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
    );

    -- One row per accepted delivery: the log the tenant reads, and replay protection (the
    -- sender's delivery id is unique per webhook). Pruned after a bounded retention.
    CREATE TABLE webhook_deliveries (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      webhook_id uuid NOT NULL,
      delivery_id text NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 255),
      sender_delivery_id boolean NOT NULL,          -- false: the sender gave none (generated)
      event_id uuid NOT NULL,
      event_key text NOT NULL,
      run_count integer NOT NULL CHECK (run_count >= 0),
      body_bytes integer NOT NULL CHECK (body_bytes >= 0),
      note text,                                    -- e.g. why key_expression fell back
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, webhook_id, delivery_id),
      FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE
    );
    CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries
      (tenant_id, webhook_id, id DESC);
    -- the janitor prunes across tenants (kiln_engine), hence no tenant prefix
    CREATE INDEX webhook_deliveries_retention ON webhook_deliveries (received_at);

    CREATE TABLE crons (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      workflow_id uuid NOT NULL,
      workflow_name text NOT NULL,
      source text NOT NULL CHECK (source IN ('api', 'workflow')),  -- workflow: from on_crons
      expression text NOT NULL CHECK (length(expression) BETWEEN 1 AND 255),
      timezone text NOT NULL DEFAULT 'UTC',
      input jsonb NOT NULL DEFAULT '{}',
      metadata jsonb NOT NULL DEFAULT '{}',
      missed text NOT NULL DEFAULT 'run_once' CHECK (missed IN ('run_once', 'skip')),
      enabled boolean NOT NULL DEFAULT true,
      next_fire_at timestamptz,                     -- NULL: the ticker computes it
      last_fired_at timestamptz,
      last_run_id uuid,
      last_error text,
      fire_count bigint NOT NULL DEFAULT 0,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
    );
    CREATE UNIQUE INDEX crons_of_workflow ON crons (tenant_id, workflow_id, expression)
      WHERE source = 'workflow';
    CREATE INDEX crons_by_workflow ON crons (tenant_id, workflow_name, id);
    -- the ticker claims due rows across tenants (kiln_engine), hence no tenant prefix
    CREATE INDEX crons_due ON crons (next_fire_at NULLS FIRST) WHERE enabled;

    CREATE TABLE schedules (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      workflow_id uuid NOT NULL,
      workflow_name text NOT NULL,
      fire_at timestamptz NOT NULL,
      input jsonb NOT NULL DEFAULT '{}',
      metadata jsonb NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'failed')),
      run_id uuid,
      error text,
      fired_at timestamptz,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE,
      CHECK ((status = 'pending') = (fired_at IS NULL)),
      CHECK (status <> 'fired' OR run_id IS NOT NULL)
    );
    CREATE INDEX schedules_by_time ON schedules (tenant_id, fire_at, id);
    -- the firer claims due rows across tenants (kiln_engine), hence no tenant prefix
    CREATE INDEX schedules_due ON schedules (fire_at) WHERE status = 'pending';

    -- The public receiver (POST /hooks/{id}) learns a webhook's tenant before it can act as
    -- that tenant: through this read-only lookup, as kiln_auth, which may read two columns.
    CREATE FUNCTION kiln_private.resolve_webhook(p_id uuid)
      RETURNS TABLE (tenant_id uuid)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
      $$ SELECT tenant_id FROM webhooks WHERE id = p_id $$;
    """)
    all_rw = "SELECT, INSERT, UPDATE, DELETE"
    tenant_table("events", tenant_privileges="SELECT, INSERT")
    tenant_table("event_subscriptions")
    tenant_table("webhooks")
    tenant_table("webhook_deliveries", tenant_privileges="SELECT, INSERT",
                 engine_privileges="SELECT, DELETE")
    tenant_table("crons", tenant_privileges=all_rw, engine_privileges="SELECT, UPDATE")
    tenant_table("schedules", tenant_privileges=all_rw, engine_privileges="SELECT, UPDATE")

    op.execute("CREATE POLICY auth_lookup ON webhooks TO kiln_auth USING (true)")
    op.execute("GRANT SELECT (tenant_id, id) ON webhooks TO kiln_auth")
    op.execute("ALTER FUNCTION kiln_private.resolve_webhook(uuid) OWNER TO kiln_auth")
    op.execute("REVOKE ALL ON FUNCTION kiln_private.resolve_webhook(uuid) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION kiln_private.resolve_webhook(uuid) TO"
               " kiln_authenticator, kiln_tenant")


def downgrade() -> None:
    op.execute("DROP FUNCTION kiln_private.resolve_webhook(uuid)")
    op.execute(
        "DROP TABLE schedules, crons, webhook_deliveries, webhooks, event_subscriptions, events"
        " CASCADE"
    )
