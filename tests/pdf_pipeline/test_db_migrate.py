"""The SQL migrations and the app user, against a real PostgreSQL server on loopback."""
from __future__ import annotations

import contextlib
import dataclasses
import threading
from pathlib import Path

import pg8000.native
import pytest

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

from lambda_src.pdf_pipeline.db import connection, migrate, migration_files  # noqa: E402
from lambda_src.pdf_pipeline.db.migrate import apply_migrations  # noqa: E402
from lambda_src.pdf_pipeline.db.migration_files import MigrationError, load_migrations  # noqa: E402
from tests.pdf_pipeline.postgres import APP_USER, MASTER_USER  # noqa: E402

pytest_plugins = ["tests.pdf_pipeline.postgres"]  # the postgres, database and migrated fixtures

EVERY_MIGRATION = [migration.name for migration in load_migrations()]


def _tables(conn) -> set[str]:
    return {name for (name,) in conn.run(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit'")}


def test_migrations_apply_to_an_empty_database_in_order(postgres, database):
    """As the RDS-like master user: no superuser, CREATEROLE, owner of the database."""
    with contextlib.closing(postgres.connect_master(database)) as admin:
        applied = apply_migrations(admin, app_user=APP_USER)
        recorded = admin.run("SELECT name FROM audit.schema_migrations ORDER BY version")
        tables = _tables(admin)
    assert applied == EVERY_MIGRATION
    assert [name for (name,) in recorded] == EVERY_MIGRATION
    assert {"batches", "documents", "events", "pages", "inference_results", "report_documents_processed",
            "report_document_failures", "report_document_features", "report_pages_per_stage",
            "report_stage_durations"} <= tables


def test_applying_the_migrations_again_changes_nothing(postgres, database):
    with contextlib.closing(postgres.connect_master(database)) as admin:
        apply_migrations(admin, app_user=APP_USER)
        before = admin.run("SELECT version, checksum, applied_at FROM audit.schema_migrations ORDER BY version")
        assert apply_migrations(admin, app_user=APP_USER) == []
        after = admin.run("SELECT version, checksum, applied_at FROM audit.schema_migrations ORDER BY version")
    assert after == before


def test_a_migration_changed_after_it_was_applied_is_refused_and_nothing_runs(postgres, database):
    migrations = load_migrations()
    with contextlib.closing(postgres.connect_master(database)) as admin:
        apply_migrations(admin, app_user=APP_USER, migrations=migrations[:1])
        edited = dataclasses.replace(migrations[0], sql=migrations[0].sql + "\n-- edited", checksum="0" * 64)
        with pytest.raises(MigrationError, match="0001_audit_schema changed after it was applied"):
            apply_migrations(admin, app_user=APP_USER, migrations=[edited, *migrations[1:]])
        recorded = admin.run("SELECT name FROM audit.schema_migrations")
    assert [name for (name,) in recorded] == [migrations[0].name]


def test_a_database_ahead_of_the_package_is_refused(postgres, database):
    migrations = load_migrations()
    with contextlib.closing(postgres.connect_master(database)) as admin:
        apply_migrations(admin, app_user=APP_USER)
        with pytest.raises(MigrationError, match="which this package does not have"):
            apply_migrations(admin, app_user=APP_USER, migrations=migrations[:1])


def test_a_failing_migration_is_rolled_back_and_not_recorded(postgres, database):
    migrations = load_migrations()
    broken = migration_files.Migration(len(migrations) + 1, f"{len(migrations) + 1:04d}_broken",
                               "CREATE TABLE audit.half_done (x int);\nSELECT no_such_function();", "f" * 64)
    with contextlib.closing(postgres.connect_master(database)) as admin:
        with pytest.raises(MigrationError, match="_broken failed and was rolled back"):
            apply_migrations(admin, app_user=APP_USER, migrations=[*migrations, broken])
        tables = _tables(admin)
        recorded = admin.run("SELECT count(*) FROM audit.schema_migrations")[0][0]
    assert "half_done" not in tables
    assert recorded == len(migrations)  # the good ones before it stay, each in its own transaction


def test_no_migration_starts_when_no_time_is_left(postgres, database):
    with contextlib.closing(postgres.connect_master(database)) as admin:
        with pytest.raises(MigrationError, match="out of time before 0001_audit_schema"):
            apply_migrations(admin, app_user=APP_USER, time_left=lambda: 0.0)


def test_migration_files_with_a_gap_in_their_numbers_are_refused(tmp_path: Path):
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    (tmp_path / "0003_third.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="0003_third: expected version 0002"):
        load_migrations(tmp_path)


def test_the_fingerprint_changes_with_any_migration_and_only_then(tmp_path: Path):
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    before = migration_files.fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("not a migration")
    unchanged = migration_files.fingerprint(tmp_path)
    (tmp_path / "0002_second.sql").write_text("SELECT 2;")
    added = migration_files.fingerprint(tmp_path)
    (tmp_path / "0001_first.sql").write_text("SELECT 10;")
    assert len({before, added, migration_files.fingerprint(tmp_path)}) == 3 and unchanged == before


def test_a_misnamed_migration_file_is_refused(tmp_path: Path):
    (tmp_path / "1_First.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="named NNNN_lowercase_name.sql"):
        load_migrations(tmp_path)


def test_an_app_user_name_that_is_not_a_plain_identifier_is_refused(postgres, database):
    with contextlib.closing(postgres.connect_master(database)) as admin:
        with pytest.raises(MigrationError, match="is not a plain lowercase PostgreSQL name"):
            apply_migrations(admin, app_user='app"; DROP TABLE x; --')


def test_two_migrators_at_once_apply_each_migration_once(postgres, database):
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with contextlib.closing(postgres.connect_master(database)) as admin:
                results.append(apply_migrations(admin, app_user=APP_USER))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results, key=len) == [[], EVERY_MIGRATION]


# --- the app user ---------------------------------------------------------------------------

def test_the_app_user_is_granted_rds_iam_where_the_role_exists(postgres, database):
    with contextlib.closing(postgres.connect(database)) as admin:
        # As on RDS: rds_iam exists, and the master user may grant it.
        admin.run("CREATE ROLE rds_iam")
        admin.run(f"GRANT rds_iam TO {MASTER_USER} WITH ADMIN OPTION")
        try:
            with contextlib.closing(postgres.connect_master(database)) as master:
                apply_migrations(master, app_user="pipeline_app_iam")
            member = admin.run("SELECT pg_has_role('pipeline_app_iam', 'rds_iam', 'MEMBER')")[0][0]
        finally:
            admin.run("DROP OWNED BY pipeline_app_iam")
            admin.run("DROP ROLE pipeline_app_iam")
            admin.run("DROP ROLE rds_iam")
    assert member is True


def test_an_existing_app_user_with_superuser_powers_is_refused(postgres, database):
    with contextlib.closing(postgres.connect(database)) as admin:
        admin.run("CREATE ROLE pipeline_app_super SUPERUSER")
        try:
            with contextlib.closing(postgres.connect_master(database)) as master:
                with pytest.raises(MigrationError, match="exists with SUPERUSER, REPLICATION or BYPASSRLS"):
                    apply_migrations(master, app_user="pipeline_app_super")
        finally:
            admin.run("DROP ROLE pipeline_app_super")


def test_on_plain_postgresql_the_app_user_is_created_without_rds_iam(migrated):
    [row] = migrated.rows("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                          "WHERE rolname = :name", name=APP_USER)
    assert row == {"rolcanlogin": True, "rolsuper": False, "rolcreatedb": False, "rolcreaterole": False}
    assert migrated.rows("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'") == []


def test_the_app_user_sessions_get_the_statement_bounds_without_setting_them(migrated):
    with contextlib.closing(migrated.app()) as app:
        settings = {name: app.run(f"SHOW {name}")[0][0] for name in migrate.APP_USER_SETTINGS}
    assert settings == migrate.APP_USER_SETTINGS


def test_the_app_user_statement_timeout_is_below_the_client_socket_timeout():
    assert migrate.APP_USER_SETTINGS["statement_timeout"] == "5s"
    assert connection.DEFAULT_TIMEOUT_S > 5


def test_the_app_user_can_insert_events_and_read_every_report(migrated):
    with contextlib.closing(migrated.app()) as app:
        app.run("INSERT INTO audit.batches (batch_id) VALUES ('b-TEST')")
        app.run("INSERT INTO audit.events (batch_id, stage, status, component, occurred_at) "
                "VALUES ('b-TEST', 'batch', 'succeeded', 'lambda:start_batch', now())")
        app.run("UPDATE audit.batches SET bucket = 'staging' WHERE batch_id = 'b-TEST'")
        counts = [app.run(f"SELECT count(*) FROM audit.{view}")[0][0] for view in (
            "report_documents_processed", "report_document_failures", "report_document_features",
            "report_pages_per_stage", "report_stage_durations")]
    assert counts == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("statement", [
    "DELETE FROM audit.events",
    "TRUNCATE audit.events",
    "DROP TABLE audit.events",
    "DROP VIEW audit.report_stage_durations",
    "CREATE TABLE audit.intruder (x int)",
    "CREATE TABLE public.intruder (x int)",
    "CREATE TEMPORARY TABLE intruder (x int)",
    "CREATE SCHEMA intruder",
    "ALTER TABLE audit.events ADD COLUMN x int",
    "SELECT * FROM audit.schema_migrations",
    "UPDATE audit.schema_migrations SET checksum = ''",
    "INSERT INTO audit.report_stage_durations VALUES ('a', 'b', 1, 1, 1, 1)",
    "CREATE ROLE intruder",
])
def test_the_app_user_cannot_change_the_schema_delete_or_touch_the_migrations(migrated, statement):
    with contextlib.closing(migrated.app()) as app:
        with pytest.raises(pg8000.native.DatabaseError, match="permission denied|must be owner|cannot insert"):
            app.run(statement)


def test_regranting_converges_to_exactly_the_listed_privileges(migrated):
    with contextlib.closing(migrated.server.connect_master(migrated.name)) as master:
        master.run(f"GRANT DELETE, TRUNCATE ON audit.events TO {APP_USER}")
        apply_migrations(master, app_user=APP_USER)
    privileges = migrated.rows(
        "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) AS privileges "
        "FROM information_schema.role_table_grants WHERE grantee = :name AND table_schema = 'audit' "
        "GROUP BY table_name ORDER BY table_name", name=APP_USER)
    tables = {row["table_name"]: row["privileges"] for row in privileges}
    assert {name: tables[name] for name in migrate.APP_TABLES} == dict.fromkeys(migrate.APP_TABLES,
                                                                                "INSERT,SELECT,UPDATE")
    assert {name: value for name, value in tables.items() if name.startswith("report_")} == {
        "report_documents_processed": "SELECT", "report_document_failures": "SELECT",
        "report_document_features": "SELECT", "report_pages_per_stage": "SELECT", "report_stage_durations": "SELECT"}
    assert set(tables) == {*migrate.APP_TABLES, "report_documents_processed", "report_document_failures",
                           "report_document_features", "report_pages_per_stage", "report_stage_durations"}

