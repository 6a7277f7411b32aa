"""Foundation: roles, tenancy functions, tenants, users, memberships, sessions, invites, API keys,
audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

from migrations.helpers import auth_readable, script, tenant_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kiln_tenant') THEN
    CREATE ROLE kiln_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kiln_engine') THEN
    CREATE ROLE kiln_engine NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kiln_auth') THEN
    CREATE ROLE kiln_auth NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kiln_authenticator') THEN
    CREATE ROLE kiln_authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;
"""


def upgrade() -> None:
    script(ROLES)
    # The pool role may only *switch* to these; NOINHERIT gives it nothing of theirs by itself.
    op.execute("GRANT kiln_tenant, kiln_engine TO kiln_authenticator")
    # Guard rails for every pooled session (SET ROLE keeps them): no request or sweep may run
    # away, wait on a lock for long, or sit idle inside a transaction holding locks.
    # (Role-wide like the roles themselves: every Kiln database of a cluster shares them.)
    op.execute("ALTER ROLE kiln_authenticator SET statement_timeout = '30s'")
    op.execute("ALTER ROLE kiln_authenticator SET lock_timeout = '5s'")
    op.execute("ALTER ROLE kiln_authenticator SET idle_in_transaction_session_timeout = '60s'")
    op.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    # The login role may resolve names in public (it still holds no table privileges), so a
    # forgotten role switch fails with "permission denied for table …", not a misleading
    # "relation does not exist".
    op.execute(
        "GRANT USAGE ON SCHEMA public TO kiln_tenant, kiln_engine, kiln_auth, kiln_authenticator"
    )

    script("""
    CREATE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
      $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
    CREATE FUNCTION app_current_user() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
      $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
    """)

    script("""
    CREATE TABLE tenants (
      id uuid PRIMARY KEY,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      run_retention_days integer NOT NULL DEFAULT 30
        CHECK (run_retention_days BETWEEN 1 AND 3650),
      quotas jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE users (
      id uuid PRIMARY KEY,
      email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
      password_hash text NOT NULL,
      name text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));
    CREATE TABLE memberships (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, user_id)
    );
    CREATE INDEX memberships_user_idx ON memberships (user_id);
    CREATE TABLE sessions (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE invites (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      email text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
      token_hash bytea NOT NULL UNIQUE,
      invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      accepted_at timestamptz,
      accepted_by uuid REFERENCES users (id) ON DELETE SET NULL,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE api_keys (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      prefix text NOT NULL,
      key_hash bytea NOT NULL UNIQUE,
      scopes text[] NOT NULL
        CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['admin', 'trigger', 'worker', 'read']),
      created_by uuid REFERENCES users (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE audit_log (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
      actor_id uuid,
      action text NOT NULL,
      target_type text,
      target_id text,
      details jsonb NOT NULL DEFAULT '{}',
      ip text,
      PRIMARY KEY (tenant_id, id)
    );
    """)

    # tenants is keyed by its own id; every other table by tenant_id.
    tenant_table("tenants", column="id", tenant_privileges="SELECT, INSERT, UPDATE",
                 engine_privileges="SELECT")
    for table in ("memberships", "sessions", "invites", "api_keys"):
        tenant_table(table)
    tenant_table("audit_log", tenant_privileges="SELECT, INSERT")

    # Per-tenant usage counters behind the quotas (a fixed one-minute window of runs started).
    script("""
    CREATE TABLE tenant_usage (
      tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
      window_start timestamptz NOT NULL,
      runs integer NOT NULL CHECK (runs >= 0)
    );
    """)
    tenant_table("tenant_usage", tenant_privileges="SELECT, INSERT, UPDATE")

    # users is global (one account, many tenants): visible to yourself and to members of the
    # current tenant; writable only as yourself.
    op.execute("ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE users FORCE ROW LEVEL SECURITY")
    script("""
    CREATE POLICY self_or_colleague ON users FOR SELECT TO kiln_tenant USING (
      id = app_current_user()
      OR EXISTS (SELECT 1 FROM memberships m
                 WHERE m.user_id = users.id AND m.tenant_id = app_current_tenant()));
    CREATE POLICY self_insert ON users FOR INSERT TO kiln_tenant
      WITH CHECK (id = app_current_user());
    CREATE POLICY self_update ON users FOR UPDATE TO kiln_tenant
      USING (id = app_current_user()) WITH CHECK (id = app_current_user());
    GRANT SELECT, INSERT, UPDATE ON users TO kiln_tenant;
    """)

    for table in ("tenants", "users", "memberships", "api_keys", "invites"):
        auth_readable(table)

    # Lookups that must cross tenants before one is known. SECURITY DEFINER as kiln_auth, a
    # read-only role, so they work whether or not the migration owner is a superuser.
    script("""
    CREATE SCHEMA kiln_private;
    REVOKE ALL ON SCHEMA kiln_private FROM PUBLIC;
    GRANT USAGE ON SCHEMA kiln_private TO kiln_authenticator, kiln_tenant, kiln_auth;

    CREATE FUNCTION kiln_private.login_lookup(p_email text)
      RETURNS TABLE (user_id uuid, password_hash text)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
      $$ SELECT id, password_hash FROM users WHERE lower(email) = lower(p_email) $$;

    CREATE FUNCTION kiln_private.user_tenants(p_user uuid)
      RETURNS TABLE (tenant_id uuid, tenant_name text, role text)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
      $$ SELECT t.id, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
         WHERE m.user_id = p_user ORDER BY m.created_at $$;

    CREATE FUNCTION kiln_private.resolve_api_key(p_hash bytea)
      RETURNS TABLE (tenant_id uuid, key_id uuid, scopes text[], expires_at timestamptz,
                     revoked_at timestamptz, last_used_at timestamptz)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
      $$ SELECT tenant_id, id, scopes, expires_at, revoked_at, last_used_at
         FROM api_keys WHERE key_hash = p_hash $$;

    CREATE FUNCTION kiln_private.resolve_invite(p_hash bytea)
      RETURNS TABLE (tenant_id uuid, invite_id uuid)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
      $$ SELECT tenant_id, id FROM invites WHERE token_hash = p_hash $$;
    """)
    # Handing a function to kiln_auth needs membership in it and its CREATE on the schema; a
    # superuser owner has both implicitly, a CREATEROLE owner (managed Postgres) gets them here.
    # kiln_auth keeps no CREATE afterwards: ownership outlives the grant.
    op.execute("GRANT kiln_auth TO CURRENT_USER")
    op.execute("GRANT CREATE ON SCHEMA kiln_private TO kiln_auth")
    for signature in (
        "login_lookup(text)", "user_tenants(uuid)", "resolve_api_key(bytea)",
        "resolve_invite(bytea)",
    ):
        op.execute(f"ALTER FUNCTION kiln_private.{signature} OWNER TO kiln_auth")
        op.execute(f"REVOKE ALL ON FUNCTION kiln_private.{signature} FROM PUBLIC")
        op.execute(
            f"GRANT EXECUTE ON FUNCTION kiln_private.{signature} TO kiln_authenticator, kiln_tenant"
        )
    op.execute("REVOKE CREATE ON SCHEMA kiln_private FROM kiln_auth")

    # Login throttling: failed attempts per e-mail and per client address, kept a short while.
    # Not tenant data (a login has no tenant yet): reachable only through these functions, which
    # run as the migration owner.
    script("""
    CREATE TABLE kiln_private.login_failures (
      key text NOT NULL,
      at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX login_failures_key_at ON kiln_private.login_failures (key, at);

    CREATE FUNCTION kiln_private.login_retry_after(p_keys text[], p_limits int[], p_window int)
      RETURNS int LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS
      $$ SELECT coalesce(max(ceil(extract(epoch FROM
             f.oldest + make_interval(secs => p_window) - now()))::int), 0)
         FROM (SELECT k.key, k.lim, min(l.at) AS oldest, count(l.at) AS n
               FROM unnest(p_keys, p_limits) AS k(key, lim)
               LEFT JOIN kiln_private.login_failures l
                 ON l.key = k.key AND l.at > now() - make_interval(secs => p_window)
               GROUP BY k.key, k.lim) AS f
         WHERE f.n >= f.lim $$;

    CREATE FUNCTION kiln_private.record_login_failure(p_keys text[], p_window int)
      RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
      $$ DELETE FROM kiln_private.login_failures
           WHERE key = ANY(p_keys) AND at < now() - make_interval(secs => p_window);
         INSERT INTO kiln_private.login_failures (key) SELECT unnest(p_keys) $$;

    CREATE FUNCTION kiln_private.clear_login_failures(p_key text)
      RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
      $$ DELETE FROM kiln_private.login_failures WHERE key = p_key $$;
    """)
    for signature in ("login_retry_after(text[], int[], int)",
                      "record_login_failure(text[], int)", "clear_login_failures(text)"):
        op.execute(f"REVOKE ALL ON FUNCTION kiln_private.{signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION kiln_private.{signature} TO kiln_authenticator")


def downgrade() -> None:
    op.execute("DROP SCHEMA kiln_private CASCADE")
    op.execute(
        "DROP TABLE audit_log, api_keys, invites, sessions, memberships, users, tenants CASCADE"
    )
    op.execute("DROP FUNCTION app_current_user(), app_current_tenant()")
