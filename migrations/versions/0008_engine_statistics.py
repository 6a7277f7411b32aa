"""Planner statistics of the engine's hot tables: per-table autovacuum thresholds, and a function
the leader's analyzer loop calls to ANALYZE a hot table that changed a lot since its last
ANALYZE (a young table grows far faster than autovacuum's one-minute nap; without statistics
the planner estimated one row per tenant and picked plans that read every row of the tenant:
ops/bench/profile.md §1). And a NOTIFY on `kiln_api_keys` whenever an API key is revoked,
changed or deleted: servers cache resolved keys for a few seconds and clear the cache on it.
And a tenant's run retention may be a fraction of a day (a real; the growth soak of ops/bench
uses minutes).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op

from migrations.helpers import script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Rows come and go all the time: vacuum after a fixed number of dead rows, not a share of a
# table that is nearly empty between bursts.
CHURN = ("queue_items", "flow_queue", "outbox")
# Grow with every run: vacuum and analyze after a small share, not autovacuum's 20% and 10%.
GROWING = ("workflow_runs", "task_runs", "task_attempts")


def upgrade() -> None:
    for table in CHURN:
        op.execute(f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0,"
                   " autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0.05,"
                   " autovacuum_analyze_threshold = 1000)")
    for table in GROWING:
        op.execute(f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.05,"
                   " autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000)")
    # SECURITY DEFINER as the owner (ANALYZE needs ownership, or MAINTAIN on PostgreSQL ≥ 17):
    # the engine role may only ANALYZE this fixed list, and only tables whose changes since the
    # last ANALYZE reach both thresholds. Returns the tables it analyzed.
    script("""
    CREATE FUNCTION kiln_private.analyze_stale(p_min_changes bigint, p_fraction real)
      RETURNS text[] LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS
    $$
    DECLARE
      rel text;
      done text[] := '{}';
    BEGIN
      FOR rel IN
        SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = 'public'
          AND s.relname IN ('workflow_runs', 'task_runs', 'queue_items', 'flow_queue',
                            'task_attempts', 'outbox')
          AND s.n_mod_since_analyze >= p_min_changes
          AND s.n_mod_since_analyze >= p_fraction * greatest(c.reltuples, 0)
      LOOP
        EXECUTE format('ANALYZE public.%I', rel);
        done := done || rel;
      END LOOP;
      RETURN done;
    END
    $$;
    REVOKE ALL ON FUNCTION kiln_private.analyze_stale(bigint, real) FROM PUBLIC;
    GRANT USAGE ON SCHEMA kiln_private TO kiln_engine;
    GRANT EXECUTE ON FUNCTION kiln_private.analyze_stale(bigint, real) TO kiln_engine;

    ALTER TABLE tenants DROP CONSTRAINT tenants_run_retention_days_check;
    ALTER TABLE tenants ALTER COLUMN run_retention_days TYPE real;
    ALTER TABLE tenants ADD CONSTRAINT tenants_run_retention_days_check
      CHECK (run_retention_days > 0 AND run_retention_days <= 3650);

    -- last_used_at is not in the list: its once-a-minute touch changes nothing a cache holds.
    CREATE FUNCTION kiln_private.notify_api_keys_changed() RETURNS trigger
      LANGUAGE plpgsql SET search_path = pg_catalog AS
    $$ BEGIN PERFORM pg_notify('kiln_api_keys', ''); RETURN NULL; END $$;
    CREATE TRIGGER api_keys_changed
      AFTER UPDATE OF revoked_at, expires_at, scopes, key_hash OR DELETE ON api_keys
      FOR EACH STATEMENT EXECUTE FUNCTION kiln_private.notify_api_keys_changed();
    """)


def downgrade() -> None:
    script("""
    ALTER TABLE tenants DROP CONSTRAINT tenants_run_retention_days_check;
    ALTER TABLE tenants ALTER COLUMN run_retention_days TYPE integer
      USING greatest(1, ceil(run_retention_days));
    ALTER TABLE tenants ADD CONSTRAINT tenants_run_retention_days_check
      CHECK (run_retention_days BETWEEN 1 AND 3650);
    """)
    op.execute("DROP TRIGGER api_keys_changed ON api_keys")
    op.execute("DROP FUNCTION kiln_private.notify_api_keys_changed()")
    op.execute("DROP FUNCTION kiln_private.analyze_stale(bigint, real)")
    op.execute("REVOKE USAGE ON SCHEMA kiln_private FROM kiln_engine")
    for table in CHURN + GROWING:
        op.execute(f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor,"
                   " autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor,"
                   " autovacuum_analyze_threshold)")
