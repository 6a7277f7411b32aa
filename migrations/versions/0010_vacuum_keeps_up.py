"""The analyzer no longer cancels autovacuum. `kiln_private.analyze_stale` (0008) ran a plain
ANALYZE, which waits for the SHARE UPDATE EXCLUSIVE lock a running vacuum holds; Postgres
cancels an autovacuum that blocks another session ("canceling autovacuum task"), so under a
steady load every vacuum of `workflow_runs` and `task_runs` was cancelled within a second by
the next analyzer pass and the tables grew with dead rows without bound (ops/bench/profile.md
§9). It now takes that lock with NOWAIT first and skips a table someone else holds: the vacuum
analyzes it itself when it needs it.

And autovacuum of the hot tables runs unthrottled (no cost-based delay): every finished run
leaves several dead row versions in them, and with the default 2 ms pauses a vacuum of
`task_runs` took most of a minute under load, time in which the dead rows piled up further.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op

from migrations.helpers import script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NOWAIT = """
        BEGIN
          -- Never wait: a session waiting behind an autovacuum gets that vacuum cancelled.
          EXECUTE format('LOCK TABLE public.%I IN SHARE UPDATE EXCLUSIVE MODE NOWAIT', rel);
        EXCEPTION WHEN lock_not_available THEN
          CONTINUE;
        END;"""

# Every run writes these over and over; they are vacuumed at full speed.
HOT = ("workflow_runs", "task_runs", "task_attempts", "queue_items", "flow_queue", "outbox")


# 0008's function; LOCK_FIRST is what runs for each table before its ANALYZE.
ANALYZE_STALE = """
    CREATE OR REPLACE FUNCTION kiln_private.analyze_stale(p_min_changes bigint, p_fraction real)
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
      LOOP -- LOCK_FIRST
        EXECUTE format('ANALYZE public.%I', rel);
        done := done || rel;
      END LOOP;
      RETURN done;
    END
    $$;
    """


def analyze_stale(lock_first: str) -> str:
    return ANALYZE_STALE.replace(" -- LOCK_FIRST", lock_first)


def upgrade() -> None:
    for table in HOT:
        op.execute(f"ALTER TABLE {table} SET (autovacuum_vacuum_cost_delay = 0)")
    script(analyze_stale(NOWAIT))


def downgrade() -> None:
    for table in HOT:
        op.execute(f"ALTER TABLE {table} RESET (autovacuum_vacuum_cost_delay)")
    script(analyze_stale(""))
