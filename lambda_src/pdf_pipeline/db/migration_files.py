"""The SQL migration files (``migrations/NNNN_name.sql``): loading, ordering, fingerprint.

Standard library only, so the stack can fingerprint the migrations at synth time without the
database driver (stacks/pdf_pipeline/database.py passes ``fingerprint()`` to the custom resource).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The migrations cannot be applied as they are; the message says why."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str       # the file name without ".sql"
    sql: str
    checksum: str   # sha256 of the file's bytes, hex


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in version order; MigrationError for a misnamed file or a gap.
    A file must not control its own transaction: each runs in the one the migrator opens."""
    migrations = []
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        raw = path.read_bytes()
        migrations.append(Migration(int(match.group(1)), path.stem, raw.decode("utf-8"),
                                    hashlib.sha256(raw).hexdigest()))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(f"{migration.name}: expected version {expected:04d} (no gaps, no duplicates)")
    return migrations


def fingerprint(directory: Path = MIGRATIONS_DIR) -> str:
    """One hash of every migration (names and contents): the stack passes it as a property of
    the custom resource, so that a new or changed migration makes CloudFormation send an Update
    (a new function code alone does not invoke a custom resource again)."""
    digest = hashlib.sha256()
    for migration in load_migrations(directory):
        digest.update(f"{migration.name}:{migration.checksum}\n".encode())
    return digest.hexdigest()
