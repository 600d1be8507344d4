"""Schema versions: the migration chain, databases written by ato 2.2.1 and ato-tracker 3.0.0
(files in ``tests/data``, never regenerated), a 2.x-shaped schema on PostgreSQL and MariaDB, and
what opening a database of another revision or of another program does."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, insert, inspect, select, text

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.errors import (
    NotATrackerDatabaseError,
    SchemaOutdatedError,
    SchemaTooNewError,
    SchemaUpgradeError,
)
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines
from ato.tracker.storage.models import Base
from ato.tracker.storage.schema import HEAD_REVISION, VERSION_TABLE, version_table

DATA = Path(__file__).parent / "data"
ATO2 = DATA / "ato-2.2.1-sqlite.db"
ATO30 = DATA / "ato-3.0.0-sqlite.db"
SINCE_ATO2 = [
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
]  # the revisions an ato 2.x database goes through to the head
FIXTURES = {"ato2": (ATO2, "legacy_cls", "0001"), "ato30": (ATO30, "cls30", "0002")}


def _config(url: str, project: str = "proj") -> dict[str, Any]:
    return {"experiment": {"project_name": project, "sql": {"db_path": url}}}


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / FIXTURES[name][0].name
    shutil.copy(FIXTURES[name][0], target)
    return target


# -- what the old files hold, read with plain sqlite3 ------------------------------------------


def _schema_sql(path: Path) -> list[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [row[0] for row in con.execute("SELECT sql FROM sqlite_master ORDER BY name")]
    finally:
        con.close()


def _expected(path: Path) -> dict[int, dict[str, Any]]:
    """Every run of a fixture file: config, tags, status, metrics, artifacts (raw SQL)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    info = "metadata" if path.name.startswith("ato-3") else "data_info"
    try:
        runs = {
            run_id: {
                "config": json.loads(config),
                "tags": json.loads(tags),
                "status": status,
                "metrics": [],
                "artifacts": [],
            }
            for run_id, config, tags, status in con.execute(
                "SELECT id, config, tags, status FROM experiments ORDER BY id"
            )
        }
        for run_id, key, value, step in con.execute(
            "SELECT run_id, key, value, step FROM metrics ORDER BY id"
        ):
            runs[run_id]["metrics"].append((key, value, step))
        for run_id, path_, data_type, meta in con.execute(
            f"SELECT run_id, path, data_type, {info} FROM artifacts ORDER BY id"
        ):
            runs[run_id]["artifacts"].append((path_, data_type, json.loads(meta)))
    finally:
        con.close()
    return runs


NAN = float("nan")


def _assert_reads_back(url: str, project: str, expected: dict[int, dict[str, Any]]) -> None:
    finder = SQLFinder(url, must_exist=True)
    runs = finder.get_runs_in_project(project)
    assert [run.id for run in runs] == sorted(expected)
    for run in runs:
        want = expected[run.id]
        assert run.config.to_dict() == want["config"]
        assert run.tags == want["tags"]
        assert run.status == want["status"]
        assert run.start_time is not None and run.start_time.tzinfo is not None
        got = sorted(((m.key, m.step, m.value) for m in run.metrics), key=repr)
        want_metrics = sorted(
            ((k, step, NAN if v is None else v) for k, v, step in want["metrics"]), key=repr
        )
        assert [(k, step) for k, step, _ in got] == [(k, step) for k, step, _ in want_metrics]
        # rel=1e-6: ato 2.x declared FLOAT, which is single precision on MySQL/MariaDB
        assert [v for *_, v in got] == pytest.approx(
            [v for *_, v in want_metrics], rel=1e-6, nan_ok=True
        )
        assert [(a.path, a.data_type, a.metadata) for a in run.artifacts] == want["artifacts"]
        assert all(a.timestamp is not None for a in run.artifacts)
    assert len({run.structural_hash for run in runs}) == 1
    best = finder.find_best_run(project, "acc", mode="max")
    assert best is not None and best.id == 1
    # revision 0010 filled run_params from the stored configs: parameter filters and sorts
    page = finder.query_runs(
        project, "params.lr < 0.06 and params.model.name = 'resnet18'", sort_by="params.lr"
    )
    assert page is not None and [row.id for row in page.runs] == [3, 2]


# -- the chain ---------------------------------------------------------------------------------


def test_one_head():
    script = migrate.script_directory()
    assert script.get_heads() == [HEAD_REVISION]
    chain = migrate.history()
    assert [rev.down_revision for rev in chain] == [None] + [rev.revision for rev in chain[:-1]]
    assert [rev.head for rev in chain] == [False] * (len(chain) - 1) + [True]
    assert all(rev.description for rev in chain)


def test_migrations_build_the_models_schema(db_url):
    """The revisions from an empty database end in exactly the schema ``models.py`` creates."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            command.upgrade(migrate.alembic_config(conn), "head")
            conn.commit()
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == HEAD_REVISION
    finally:
        engine.dispose()
    assert migrate.current(db_url).up_to_date


def test_each_revision_downgrades_and_upgrades_again(db_url):
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            command.upgrade(migrate.alembic_config(conn), "head")
            conn.commit()
            for rev in reversed(migrate.history()):
                command.downgrade(migrate.alembic_config(conn), f"{rev.revision}-1")
                conn.commit()
                command.upgrade(migrate.alembic_config(conn), rev.revision)
                conn.commit()
                command.downgrade(migrate.alembic_config(conn), f"{rev.revision}-1")
                conn.commit()
            assert set(inspect(conn).get_table_names()) <= {VERSION_TABLE}
            command.upgrade(migrate.alembic_config(conn), "head")
            conn.commit()
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


# -- the files of ato 2.2.1 and ato-tracker 3.0.0 ----------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_old_files_upgrade_and_read_back(name, tmp_path):
    path = _copy(name, tmp_path)
    _, project, revision = FIXTURES[name]
    url = f"sqlite:///{path}"
    assert migrate.current(url).revision == revision
    result = migrate.upgrade(url)
    assert (result.before, result.after) == (revision, HEAD_REVISION)
    assert migrate.current(url).up_to_date and migrate.current(url).versioned
    _assert_reads_back(url, project, _expected(FIXTURES[name][0]))
    with SQLLogger(_config(url, project)) as logger, logger.start_run(tags=["after"]) as run:
        run.log_metric("acc", 0.1, 0)
    assert len(SQLFinder(url).get_runs_in_project(project)) == 4


def test_ato2_upgrade_backs_up_the_file_first(tmp_path):
    path = _copy("ato2", tmp_path)
    result = migrate.upgrade(str(path))
    assert result.applied == SINCE_ATO2 and result.backup is not None
    assert result.backup.parent == tmp_path and result.backup.name.startswith(path.name + ".0001-")
    assert _schema_sql(result.backup) == _schema_sql(ATO2)
    assert _expected(result.backup) == _expected(ATO2)
    assert migrate.current(str(result.backup)).revision == "0001"


def test_upgrade_is_idempotent(tmp_path):
    path = _copy("ato2", tmp_path)
    first = migrate.upgrade(str(path))
    expected = _expected(ATO2)
    again = migrate.upgrade(str(path))
    assert again.applied == [] and again.backup is None and again.before == HEAD_REVISION
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".bak") == [first.backup.name]
    _assert_reads_back(f"sqlite:///{path}", "legacy_cls", expected)


def test_a_failed_upgrade_leaves_a_sqlite_file_as_it_was(tmp_path):
    path = _copy("ato2", tmp_path)
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as con:  # fails after projects, experiments, metrics changed
        con.execute(
            "CREATE TRIGGER fail BEFORE UPDATE ON artifacts "
            "BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END"
        )
    with pytest.raises(SchemaUpgradeError, match="disk full") as info:
        migrate.upgrade(url)
    assert repr(url) in str(info.value)
    assert migrate.current(url).revision == "0001" and not migrate.current(url).versioned
    assert _expected(path) == _expected(ATO2)
    with sqlite3.connect(path) as con:
        con.execute("DROP TRIGGER fail")
    assert migrate.upgrade(url).applied == SINCE_ATO2
    _assert_reads_back(url, "legacy_cls", _expected(ATO2))


# -- opening databases of other revisions ------------------------------------------------------


def test_writing_to_an_ato2_file_names_the_file_revisions_and_command(tmp_path):
    path = _copy("ato2", tmp_path)
    before = path.read_bytes()
    url = f"sqlite:///{path}"
    for open_it in (
        lambda: SQLLogger(_config(url)),
        lambda: SQLFinder(url),
        lambda: SQLFinder(url, must_exist=True),
    ):
        with pytest.raises(SchemaOutdatedError) as info:
            open_it()
        message = str(info.value)
        assert repr(url) in message and "revision 0001" in message
        assert f"needs revision {HEAD_REVISION}" in message
        assert f"ato db upgrade --db '{url}'" in message
        dispose_engines()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no -wal/-shm either


def test_the_outdated_error_hides_the_password(postgres_url):
    url = postgres_url.replace("postgres@", "postgres:s3cret@", 1)
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0001")
    finally:
        engine.dispose()
    with pytest.raises(SchemaOutdatedError) as info:
        SQLLogger(_config(url))
    message = str(info.value)
    assert "s3cret" not in message and "postgres:***@" in message
    assert "ato db upgrade --db" in message and "in place of ***" in message


def test_a_database_from_a_newer_ato_says_to_upgrade_ato(db_url):
    SQLFinder(db_url).list_projects()
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(version_table.update().values(version_num="0999"))
    finally:
        engine.dispose()
    dispose_engines()
    for open_it in (lambda: SQLLogger(_config(db_url)), lambda: SQLFinder(db_url, must_exist=True)):
        with pytest.raises(SchemaTooNewError, match="pip install -U ato-tracker") as info:
            open_it()
        assert "revision 0999" in str(info.value) and HEAD_REVISION in str(info.value)
        dispose_engines()
    with pytest.raises(SchemaTooNewError):
        migrate.upgrade(db_url)


def test_a_3_0_database_without_version_table_is_recognised_and_upgraded(tmp_path):
    path = _copy("ato30", tmp_path)
    url = f"sqlite:///{path}"
    before = path.read_bytes()
    with pytest.raises(SchemaOutdatedError, match="0002"):
        SQLFinder(url, must_exist=True)  # an older revision: reading changes nothing
    assert path.read_bytes() == before
    assert migrate.current(url).revision == "0002" and not migrate.current(url).versioned
    state = migrate.current(url)
    assert (state.revision, state.versioned) == ("0002", False)  # recognised by its shape
    with pytest.raises(SchemaOutdatedError):  # revision 0003 added columns since 3.0.0
        SQLLogger(_config(url, "cls30"))
    assert migrate.upgrade(url).applied == SINCE_ATO2[1:]
    SQLLogger(_config(url, "cls30"))
    state = migrate.current(url)
    assert state.versioned and state.up_to_date


def test_a_new_database_is_created_at_the_head(db_url):
    SQLLogger(_config(db_url)).run()
    state = migrate.current(db_url)
    assert state.revision == HEAD_REVISION and state.versioned


def test_another_programs_sqlite_file_is_not_touched_by_a_logger(tmp_path):
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(NotATrackerDatabaseError, match=r"holds only other tables \(notes\)"):
        SQLLogger(_config(f"sqlite:///{path}"))
    with pytest.raises(NotATrackerDatabaseError):
        migrate.upgrade(str(path))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_tables_of_an_unknown_shape_are_not_touched(db_url):
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                conn.execute(text(f"CREATE TABLE {table.name} (id INTEGER PRIMARY KEY)"))
        for open_it in (
            lambda: SQLLogger(_config(db_url)),
            lambda: SQLFinder(db_url, must_exist=True),
            lambda: migrate.upgrade(db_url),
        ):
            with pytest.raises(NotATrackerDatabaseError, match="shape no ato version wrote"):
                open_it()
            dispose_engines()
        with engine.connect() as conn:
            assert not conn.dialect.has_table(conn, VERSION_TABLE)
    finally:
        engine.dispose()


# -- a 2.x-shaped schema on PostgreSQL and MariaDB ---------------------------------------------

ATO2_DDL = """
CREATE TABLE projects (id {serial}, name {varchar} NOT NULL, description TEXT, created_at {ts});
CREATE UNIQUE INDEX ix_projects_name ON projects (name);
CREATE TABLE experiments (id {serial}, project_id INTEGER NOT NULL, config JSON NOT NULL,
  structural_hash VARCHAR(64), tags JSON, status {varchar}, start_time {ts}, end_time {ts},
  FOREIGN KEY (project_id) REFERENCES projects (id));
CREATE INDEX ix_experiments_structural_hash ON experiments (structural_hash);
CREATE INDEX ix_experiments_status ON experiments (status);
CREATE INDEX ix_experiments_project_id ON experiments (project_id);
CREATE TABLE metrics (id {serial}, run_id INTEGER NOT NULL, {key} {varchar} NOT NULL,
  value FLOAT NOT NULL, step INTEGER NOT NULL, timestamp {ts},
  FOREIGN KEY (run_id) REFERENCES experiments (id));
CREATE INDEX ix_metrics_key ON metrics ({key});
CREATE INDEX ix_metrics_run_id ON metrics (run_id);
CREATE TABLE artifacts (id {serial}, run_id INTEGER NOT NULL, path {varchar} NOT NULL,
  data_type {varchar}, data_info JSON, FOREIGN KEY (run_id) REFERENCES experiments (id));
CREATE INDEX ix_artifacts_run_id ON artifacts (run_id);
CREATE TABLE fingerprints (id {serial}, run_id INTEGER NOT NULL, trace_id {varchar} NOT NULL,
  trace_type VARCHAR(32) NOT NULL, fingerprint VARCHAR(128) NOT NULL,
  FOREIGN KEY (run_id) REFERENCES experiments (id));
CREATE INDEX ix_fingerprints_fingerprint ON fingerprints (fingerprint);
CREATE INDEX ix_fingerprints_trace_type ON fingerprints (trace_type);
CREATE INDEX ix_fingerprints_trace_id ON fingerprints (trace_id);
CREATE INDEX ix_fingerprints_run_id ON fingerprints (run_id)
"""
DIALECT_WORDS = {
    "postgresql": {
        "serial": "SERIAL PRIMARY KEY",
        "varchar": "VARCHAR",
        "ts": "TIMESTAMP",
        "key": "key",
    },
    "mysql": {
        "serial": "INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY",
        "varchar": "VARCHAR(255)",
        "ts": "DATETIME",
        "key": "`key`",
    },
}


def _create_ato2_schema_with_fixture_rows(url: str) -> None:
    engine = create_engine(url)
    words = DIALECT_WORDS["postgresql" if url.startswith("postgresql") else "mysql"]
    source = sqlite3.connect(f"file:{ATO2}?mode=ro", uri=True)
    try:
        with engine.begin() as conn:
            for statement in ATO2_DDL.format(**words).split(";"):
                conn.execute(text(statement))
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as conn:
            for name in ("projects", "experiments", "metrics", "artifacts", "fingerprints"):
                cursor = source.execute(f"SELECT * FROM {name}")
                columns = [column[0] for column in cursor.description]
                rows = [_row(url, dict(zip(columns, row, strict=True))) for row in cursor]
                if rows:
                    conn.execute(insert(tables.tables[name]), rows)
                if url.startswith("postgresql"):
                    conn.execute(
                        text(f"SELECT setval('{name}_id_seq', (SELECT MAX(id) FROM {name}))")
                    )
    finally:
        source.close()
        engine.dispose()


def _row(url: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row for the server; JSON text is decoded for PostgreSQL (MariaDB's JSON is text)."""
    for column in ("config", "tags", "data_info"):
        if url.startswith("postgresql") and isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    return row


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_an_ato2_schema_on_a_server_upgrades_and_reads_back(server, request):
    url = request.getfixturevalue("postgres_url" if server == "postgresql" else "mysql_url")
    _create_ato2_schema_with_fixture_rows(url)
    assert migrate.current(url).revision == "0001"
    with pytest.raises(SchemaOutdatedError):
        SQLLogger(_config(url, "legacy_cls"))
    result = migrate.upgrade(url)
    assert (result.before, result.applied, result.backup) == ("0001", SINCE_ATO2, None)
    _assert_reads_back(url, "legacy_cls", _expected(ATO2))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
            assert conn.execute(select(version_table.c.version_num)).scalars().all() == [
                HEAD_REVISION
            ]
    finally:
        engine.dispose()
    dispose_engines()
    with SQLLogger(_config(url, "legacy_cls")) as logger, logger.start_run() as run:
        run.log_metric("acc", 0.2, 0)
    assert len(SQLFinder(url).get_runs_in_project("legacy_cls")) == 4
    assert migrate.upgrade(url).applied == []


FAILING_TRIGGER = {
    "postgresql": [
        "CREATE FUNCTION fail() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'disk full (simulated)'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER fail BEFORE UPDATE ON artifacts FOR EACH ROW EXECUTE FUNCTION fail()",
    ],
    "mysql": [
        "CREATE TRIGGER fail BEFORE UPDATE ON artifacts FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'disk full (simulated)'"
    ],
}
DROP_TRIGGER = {
    "postgresql": ["DROP TRIGGER fail ON artifacts", "DROP FUNCTION fail()"],
    "mysql": ["DROP TRIGGER fail"],
}


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_an_upgrade_interrupted_on_a_server_completes_when_run_again(server, request):
    """PostgreSQL rolls the revision back; MariaDB keeps the DDL done before the failure, and
    the rerun finishes the revision from there."""
    url = request.getfixturevalue("postgres_url" if server == "postgresql" else "mysql_url")
    _create_ato2_schema_with_fixture_rows(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in FAILING_TRIGGER[server]:
                conn.execute(text(statement))
        with pytest.raises(SchemaUpgradeError, match="disk full"):
            migrate.upgrade(url)
        assert migrate.current(url).revision == "0001"
        projects = {column["name"] for column in inspect(engine).get_columns("projects")}
        assert ("description" in projects) == (server == "postgresql")  # MariaDB: half done
        with engine.begin() as conn:
            for statement in DROP_TRIGGER[server]:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    assert migrate.upgrade(url).applied == SINCE_ATO2
    _assert_reads_back(url, "legacy_cls", _expected(ATO2))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
