"""Migration discovery: numbered plain-SQL files, in order, named strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.postgres.migrations import Migration, MigrationError, discover

ROOT = Path(__file__).resolve().parents[2]


def _write(directory: Path, name: str, sql: str = "SELECT 1;") -> None:
    (directory / name).write_text(sql, encoding="utf-8")


def test_discover_orders_migrations_by_number(tmp_path: Path) -> None:
    _write(tmp_path, "0010_add_index.sql", "CREATE INDEX i ON t (a);")
    _write(tmp_path, "0002_add_column.sql", "ALTER TABLE t ADD b int;")
    _write(tmp_path, "0001_create_table.sql", "CREATE TABLE t (a int);")

    migrations = discover(tmp_path)

    assert [(m.version, m.name) for m in migrations] == [
        (1, "0001_create_table.sql"),
        (2, "0002_add_column.sql"),
        (10, "0010_add_index.sql"),
    ]
    assert migrations[0].sql == "CREATE TABLE t (a int);"


def test_discover_ignores_files_that_are_not_sql(tmp_path: Path) -> None:
    _write(tmp_path, "0001_create.sql")
    _write(tmp_path, "README.md", "notes")

    assert [m.name for m in discover(tmp_path)] == ["0001_create.sql"]


def test_discover_of_an_empty_directory_is_empty(tmp_path: Path) -> None:
    assert discover(tmp_path) == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("1_create.sql", id="number-too-short"),
        pytest.param("00001_create.sql", id="number-too-long"),
        pytest.param("0001-create.sql", id="dash-separator"),
        pytest.param("0001_Create.sql", id="upper-case"),
        pytest.param("0001_create table.sql", id="space"),
        pytest.param("0001_.sql", id="no-description"),
        pytest.param("create.sql", id="no-number"),
    ],
)
def test_discover_rejects_a_badly_named_file(tmp_path: Path, name: str) -> None:
    _write(tmp_path, "0001_good.sql")
    _write(tmp_path, name)

    with pytest.raises(MigrationError, match="NNNN_lower_snake"):
        discover(tmp_path)


def test_discover_rejects_two_migrations_with_the_same_number(tmp_path: Path) -> None:
    _write(tmp_path, "0001_create_members.sql")
    _write(tmp_path, "0001_create_offers.sql")

    with pytest.raises(MigrationError, match="share a number"):
        discover(tmp_path)


def test_checksum_is_the_sha256_of_the_sql_and_changes_with_it() -> None:
    migration = Migration(1, "0001_a.sql", "CREATE TABLE t (a int);")
    edited = Migration(1, "0001_a.sql", "CREATE TABLE t (a bigint);")

    assert migration.checksum == Migration(7, "0007_other.sql", "CREATE TABLE t (a int);").checksum
    assert len(migration.checksum) == 64
    assert edited.checksum != migration.checksum


def test_checksum_changes_when_a_file_on_disk_is_edited(tmp_path: Path) -> None:
    _write(tmp_path, "0001_create.sql", "CREATE TABLE t (a int);")
    before = discover(tmp_path)[0].checksum
    _write(tmp_path, "0001_create.sql", "CREATE TABLE t (a int);\n")

    assert discover(tmp_path)[0].checksum != before


@pytest.mark.parametrize(
    "directory",
    [
        "shared/postgres/sql",
        "services/ingest/migrations",
        "services/scoring/migrations",
        "services/campaigns/migrations",
        "services/notifier/migrations",
    ],
)
def test_the_shipped_migration_folders_are_well_formed(directory: str) -> None:
    migrations = discover(ROOT / directory)

    assert migrations
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
