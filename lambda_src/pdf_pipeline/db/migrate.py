"""Versioned SQL migrations of the audit database, and the functions' database user.

``migrations/NNNN_name.sql`` are applied in order, each in its own transaction, and recorded
in ``audit.schema_migrations`` with the SHA-256 of the file; the whole run holds a session
advisory lock, so two deployments cannot migrate at once. Re-running is a no-op. A migration
file that changed after it was applied, a gap in the numbering, or a database that holds a
migration this package does not know are errors: nothing is applied then.

After the migrations, :func:`grant_app_user` makes the dedicated user the functions connect as
exist (idempotent) and gives it exactly the privileges below, every run (what it held besides
them on the audit schema is revoked), so the database converges to this list:

- LOGIN, and membership of ``rds_iam`` where that role exists (Aurora, RDS): to open sessions
  with IAM auth tokens through RDS Proxy. No password is ever set.
- CONNECT on the database: to open a session in it at all.
- USAGE on schema ``audit``: to name its tables and views.
- SELECT, INSERT, UPDATE on batches, documents, events, pages and inference_results:
  ``write_audit`` inserts events and merges the derived rows (INSERT ... ON CONFLICT DO
  UPDATE needs UPDATE, and SELECT to read the rows it merges with); ``batch_status`` reads them.
- SELECT on every ``audit.report_*`` view: ``reports`` reads them.
- The role settings :data:`APP_USER_SETTINGS` (statement, lock and idle-transaction
  timeouts): every statement is bounded on the server without a per-session SET, which would
  pin the client's RDS Proxy connection.

Not granted: DELETE and TRUNCATE (the trail is append-and-merge only; nothing the functions do
removes a row), CREATE on any schema, TEMPORARY on the database (revoked from PUBLIC, which
holds it by default), REFERENCES, TRIGGER, and anything on ``schema_migrations``.
"""
from __future__ import annotations

import hashlib
import re
from typing import Callable, Sequence

import pg8000.native

from .migration_files import Migration, MigrationError, load_migrations

SCHEMA = "audit"
APP_TABLES = ("batches", "documents", "events", "pages", "inference_results")
# pg_advisory_lock takes a bigint: the first 8 bytes of a hash of this module's purpose.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"pdf_pipeline.audit.migrations").digest()[:8], "big", signed=True)
APP_USER_SETTINGS = {
    "statement_timeout": "5s",     # below connection.DEFAULT_TIMEOUT_S: the server cancels before the client gives up
    "lock_timeout": "3s",
    "idle_in_transaction_session_timeout": "1min",  # a function that died mid-transaction frees its locks
}
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quote_identifier(name: str) -> str:
    if not _ROLE_NAME.match(name):
        raise MigrationError(f"{name!r:.80} is not a plain lowercase PostgreSQL name")
    return f'"{name}"'


def apply_migrations(conn: pg8000.native.Connection, *, app_user: str,
                     migrations: Sequence[Migration] | None = None,
                     time_left: Callable[[], float] | None = None) -> list[str]:
    """Apply what is pending and grant ``app_user``; returns the names applied now ([] when the
    schema was current). ``time_left`` (seconds) is checked before each migration: one that
    would start with no time left is not started (MigrationError; deploy again to go on)."""
    quote_identifier(app_user)
    pending_from = list(load_migrations() if migrations is None else migrations)
    conn.run("SELECT pg_advisory_lock(:key)", key=LOCK_KEY)
    try:
        _run_in_transaction(conn, [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
                                   f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC",
                                   f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_migrations ("
                                   "version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
                                   "applied_at timestamptz NOT NULL DEFAULT now())"])
        pending = _pending(conn, pending_from)
        applied = []
        for migration in pending:
            if time_left is not None and time_left() <= 0:
                raise MigrationError(f"out of time before {migration.name} ({len(applied)} applied now: "
                                     f"{', '.join(applied) or 'none'}); deploy again to go on")
            try:
                _run_in_transaction(conn, [migration.sql], record=migration)
            except pg8000.native.DatabaseError as error:
                raise MigrationError(f"{migration.name} failed and was rolled back: {_message(error)}") from error
            applied.append(migration.name)
        grant_app_user(conn, app_user)
        return applied
    finally:
        conn.run("SELECT pg_advisory_unlock(:key)", key=LOCK_KEY)


def _pending(conn: pg8000.native.Connection, migrations: Sequence[Migration]) -> list[Migration]:
    rows = conn.run(f"SELECT version, name, checksum FROM {SCHEMA}.schema_migrations ORDER BY version")
    known = {migration.version: migration for migration in migrations}
    for version, name, checksum in rows:
        migration = known.get(version)
        if migration is None:
            raise MigrationError(f"the database has migration {name}, which this package does not have: "
                                 f"deploy the package that brought it")
        if migration.checksum != checksum or migration.name != name:
            raise MigrationError(f"{migration.name} changed after it was applied as {name} "
                                 f"(checksum {checksum[:12]}, file {migration.checksum[:12]}): "
                                 f"add a new migration instead of editing an applied one")
    done = {version for version, _name, _checksum in rows}
    return [migration for migration in migrations if migration.version not in done]


def _run_in_transaction(conn: pg8000.native.Connection, statements: Sequence[str], *,
                        record: Migration | None = None) -> None:
    conn.run("START TRANSACTION")
    try:
        for statement in statements:
            conn.run(statement)
        if record is not None:
            conn.run(f"INSERT INTO {SCHEMA}.schema_migrations (version, name, checksum) "
                     "VALUES (:version, :name, :checksum)",
                     version=record.version, name=record.name, checksum=record.checksum)
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise


def grant_app_user(conn: pg8000.native.Connection, app_user: str) -> None:
    """Create ``app_user`` if missing and give it exactly the privileges of the module's table."""
    role = quote_identifier(app_user)
    database = quote_identifier(conn.run("SELECT current_database()")[0][0])
    views = [name for (name,) in conn.run(
        "SELECT table_name FROM information_schema.views WHERE table_schema = :schema "
        "AND table_name LIKE 'report\\_%' ORDER BY table_name", schema=SCHEMA)]
    has_rds_iam = bool(conn.run("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'"))
    tables = ", ".join(f"{SCHEMA}.{table}" for table in APP_TABLES)
    # The master user of RDS is no superuser: it may not even name SUPERUSER, REPLICATION or
    # BYPASSRLS in ALTER ROLE. A new role has none of them; an existing one that has is refused.
    powerful = conn.run("SELECT rolsuper OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = :name",
                        name=app_user)
    if powerful and powerful[0][0]:
        raise MigrationError(f"the role {app_user} exists with SUPERUSER, REPLICATION or BYPASSRLS: "
                             f"the functions' user must have none of them")
    statements = [
        # Concurrent creators (another database of the same cluster) lose the race harmlessly.
        f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        f"ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT",
        *([f"GRANT rds_iam TO {role}"] if has_rds_iam else []),
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",  # PostgreSQL before 15 lets everyone create there
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM {role}",
        f"REVOKE ALL ON SCHEMA {SCHEMA} FROM {role}",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON {tables} TO {role}",
        *[f"GRANT SELECT ON {SCHEMA}.{view} TO {role}" for view in views],
        *[f"ALTER ROLE {role} IN DATABASE {database} SET {name} = '{value}'"
          for name, value in APP_USER_SETTINGS.items()],
    ]
    _run_in_transaction(conn, statements)


def schema_version(conn: pg8000.native.Connection) -> int:
    """The highest migration applied (0 before any)."""
    return conn.run(f"SELECT COALESCE(max(version), 0) FROM {SCHEMA}.schema_migrations")[0][0]


def _message(error: pg8000.native.DatabaseError) -> str:
    details = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return str(details.get("M", error))
