"""Alerts: channels, deliveries (one per message, webhook-id stable across retries), attempts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

from migrations.helpers import script, tenant_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    script("""
    CREATE TABLE alert_channels (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      type text NOT NULL CHECK (type ~ '^[a-z0-9][a-z0-9_.-]{0,49}$'),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      config jsonb NOT NULL DEFAULT '{}',           -- non-secret settings only
      secrets text,                                 -- crypto.SecretBox-sealed JSON of the rest
      secret_fields text[] NOT NULL DEFAULT '{}',   -- which secret settings are set (no values)
      events text[] NOT NULL CHECK (cardinality(events) > 0),
      filters jsonb NOT NULL DEFAULT '{}',
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
      failing_since timestamptz,
      last_success_at timestamptz,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, name)
    );
    CREATE INDEX alert_channels_enabled ON alert_channels (tenant_id) WHERE enabled;

    CREATE TABLE alert_deliveries (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      channel_id uuid NOT NULL,
      webhook_id text NOT NULL,                     -- msg_…: the same for every retry
      event text NOT NULL,
      group_key text,                               -- failures grouped per workflow (alerts.md)
      event_count integer NOT NULL DEFAULT 1 CHECK (event_count >= 1),
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      due_at timestamptz NOT NULL DEFAULT now(),    -- when it was scheduled (grouping windows)
      next_attempt_at timestamptz NOT NULL DEFAULT now(),  -- retry time, or an attempt's lease
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      PRIMARY KEY (tenant_id, id),
      UNIQUE (tenant_id, webhook_id),
      FOREIGN KEY (tenant_id, channel_id) REFERENCES alert_channels (tenant_id, id)
        ON DELETE CASCADE,
      CHECK ((status = 'pending') = (finished_at IS NULL))
    );
    -- the sender sweeps due deliveries across tenants (kiln_engine), hence no tenant prefix
    CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at)
      WHERE status = 'pending';
    CREATE INDEX alert_deliveries_by_channel ON alert_deliveries (tenant_id, channel_id, id DESC);
    CREATE INDEX alert_deliveries_groups ON alert_deliveries
      (tenant_id, channel_id, group_key, due_at DESC) WHERE group_key IS NOT NULL;

    CREATE TABLE alert_attempts (
      tenant_id uuid NOT NULL,
      delivery_id uuid NOT NULL,
      attempt integer NOT NULL CHECK (attempt >= 1),
      started_at timestamptz NOT NULL,
      finished_at timestamptz NOT NULL DEFAULT now(),
      succeeded boolean NOT NULL,
      status_code integer,
      detail text,
      PRIMARY KEY (tenant_id, delivery_id, attempt),
      FOREIGN KEY (tenant_id, delivery_id) REFERENCES alert_deliveries (tenant_id, id)
        ON DELETE CASCADE
    );
    """)
    # The relay reads channels, creates deliveries, and records outcomes (failure counters,
    # auto-disable); it never creates or deletes channels. Tenants manage channels and send
    # test deliveries from requests.
    tenant_table("alert_channels", engine_privileges="SELECT, UPDATE")
    tenant_table("alert_deliveries", tenant_privileges="SELECT, INSERT, UPDATE",
                 engine_privileges="SELECT, INSERT, UPDATE")
    tenant_table("alert_attempts", tenant_privileges="SELECT, INSERT",
                 engine_privileges="SELECT, INSERT")


def downgrade() -> None:
    op.execute("DROP TABLE alert_attempts, alert_deliveries, alert_channels CASCADE")
