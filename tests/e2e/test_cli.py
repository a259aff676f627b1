"""The `imvo` console as a coordinator uses it after `make run`: real subprocesses, real files.

Each command runs as `python -m imvo_workflow` from the project root against a SQLite file of
its own, with the clock pinned to the report date (IMVO_NOW=2016-11-01). The database is
migrated and seeded once per module; read-only tests share that file, tests that write get a
copy of it, so starting the subprocess (about a second: the interpreter plus importing the
CLI) is the only real cost of a test. Refusals are checked the way the CLI promises them:
exit code 2, a message on stderr, no traceback, and nothing written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from cli_runner import Done, run_imvo
from imvo_workflow.db.tables import metadata
from imvo_workflow.domain.record import is_record

ROOT = Path(__file__).resolve().parents[2]
STAGES = ROOT / "src" / "imvo_workflow" / "data" / "stages.yaml"
COVENANTS = 21


@dataclass(frozen=True)
class Imvo:
    """Runs `imvo` against one database; `code` is the exit status the test expects."""

    database_url: str
    #: False: a real `python -m imvo_workflow` process (tests/cli_runner.py says when it matters).
    in_process: bool = True

    @property
    def path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("IMVO_") and k != "FORCE_COLOR"
        }
        env |= {
            "IMVO_DATABASE_URL": self.database_url,
            "IMVO_NOW": "2016-11-01",
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
            "PGCONNECT_TIMEOUT": "5",
        }
        return env | extra

    def __call__(self, *args: str, code: int = 0, **env: str) -> Done:
        done = run_imvo(args, self.env(**env), in_process=self.in_process)
        shown = f"imvo {' '.join(args)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert done.returncode == code, shown
        assert "Traceback" not in done.stdout + done.stderr, shown
        return done

    def json(self, *args: str, **env: str) -> Any:
        return json.loads(self(*args, "--json", **env).stdout)


def _sqlite(path: Path) -> Imvo:
    return Imvo(f"sqlite:///{path}")


def _copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


def _contents(path: Path) -> list[str]:
    """Everything stored in a SQLite file, as SQL: equal lists mean nothing was written."""
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


def _stored(imvo: Imvo) -> list[str]:
    """Everything stored in the database `imvo` uses, SQLite or PostgreSQL."""
    if imvo.database_url.startswith("sqlite"):
        return _contents(imvo.path)
    engine = create_engine(imvo.database_url)
    try:
        with engine.connect() as conn:
            return [
                f"{table.name}: {row}"
                for table in metadata.sorted_tables
                for row in sorted(repr(tuple(r)) for r in conn.execute(select(table)))
            ]
    finally:
        engine.dispose()


def _flat(text: str) -> str:
    """Rich wraps long messages at the console width; compare them as one line."""
    return " ".join(text.split())


def _rows(table: str) -> dict[str, list[str]]:
    """A rich table's rows by their first cell (continuation lines of wrapped cells skipped)."""
    rows: dict[str, list[str]] = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0]:
            rows[cells[0].removeprefix("↳ ")] = cells
    return rows


@dataclass(frozen=True)
class Seeded:
    path: Path
    seed_output: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The template: migrated with `imvo db upgrade` and loaded with `imvo seed`, once."""
    path = tmp_path_factory.mktemp("seeded") / "imvo.db"
    imvo = _sqlite(path)
    imvo("db", "upgrade")
    return Seeded(path=path, seed_output=_flat(imvo("seed").stdout))


@pytest.fixture(scope="module")
def imvo(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Imvo:
    """For tests that only read: one copy of the template, shared by the module."""
    path = tmp_path_factory.mktemp("readonly") / "imvo.db"
    _copy_database(seeded.path, path)
    return _sqlite(path)


@pytest.fixture
def imvo_rw(seeded: Seeded, tmp_path: Path) -> Imvo:
    """For tests that write (or try to): a fresh copy of the template."""
    path = tmp_path / "imvo.db"
    _copy_database(seeded.path, path)
    return _sqlite(path)


@pytest.fixture(scope="module")
def pg_imvo(postgres_url: str) -> Iterator[Imvo]:
    """The smoke set's PostgreSQL database: its own, migrated and loaded by the CLI, shared by
    the module (its tests write nothing, or write covenants no other test reads)."""
    name = f"imvo_cli_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    imvo = Imvo(make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
    imvo("db", "upgrade")
    imvo("seed")
    yield imvo
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def imvo_on(request: pytest.FixtureRequest) -> Imvo:
    """For the smoke set: a writable copy on SQLite, the module's database on PostgreSQL."""
    found: Imvo = request.getfixturevalue("imvo_rw" if request.param == "sqlite" else "pg_imvo")
    return found


@pytest.fixture(scope="module")
def report_status(imvo: Imvo) -> list[dict[str, Any]]:
    """`imvo status --json` of the freshly seeded report."""
    rows: list[dict[str, Any]] = imvo.json("status")
    return rows


# --- loading the report ---------------------------------------------------------------------


def test_seed_adds_the_21_covenants_of_the_report(seeded: Seeded) -> None:
    assert f"{COVENANTS} convenanten toegevoegd, 0 al aanwezig" in seeded.seed_output


def test_seeding_twice_adds_nothing_and_changes_nothing(
    imvo_rw: Imvo, report_status: list[dict[str, Any]]
) -> None:
    stored = _contents(imvo_rw.path)
    again = _flat(imvo_rw("seed").stdout)
    assert f"0 convenanten toegevoegd, {COVENANTS} al aanwezig" in again
    assert imvo_rw.json("status") == report_status
    assert _contents(imvo_rw.path) == stored


# --- reading --------------------------------------------------------------------------------


def test_status_lists_every_covenant_in_its_stage(
    imvo: Imvo, report_status: list[dict[str, Any]]
) -> None:
    rows = _rows(imvo("status").stdout)
    assert {row["slug"] for row in report_status} <= set(rows)
    assert rows["natuursteen"][2] == "Dialoog"
    assert rows["bouw"][2] == "Afgezien"
    assert rows["goud"][2] == "Dialoog"
    assert rows["chemie"][2] == "Verkenning"
    assert rows["toerisme-suriname"][2] == "Verkenning"


def test_status_json_has_one_entry_per_covenant(report_status: list[dict[str, Any]]) -> None:
    rows = report_status
    assert len(rows) == COVENANTS
    assert len({row["slug"] for row in rows}) == COVENANTS
    for row in rows:
        assert {"slug", "stage", "since", "next_target", "overdue"} <= row.keys()
        assert isinstance(row["overdue"], bool)
    by_slug = {row["slug"]: row for row in rows}
    assert by_slug["natuursteen"]["stage"] == "dialoog"
    assert by_slug["natuursteen"]["since"] == "2016-06-01"
    assert by_slug["natuursteen"]["next_target"]["deadline"] == "2017-03-31"
    assert by_slug["bouw"]["stage"] == "afgezien"
    assert by_slug["bouw"]["next_target"] is None
    assert by_slug["toerisme-suriname"]["parent"] == "toerisme"


def test_show_gives_parties_targets_and_history(imvo: Imvo) -> None:
    text = imvo("show", "natuursteen").stdout
    assert "IMVO-convenant Natuursteen" in text
    assert _rows(text)["facilitator"][1] == "SER"
    target = next(
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in text.splitlines()
        if "│ fase ondertekend" in line
    )
    assert target[2:5] == ["Q1 van 2017", "2017-03-31", "open"]  # planned against actual
    assert "Geschiedenis van natuursteen" in text
    assert "Voortgangsrapportage 2016" in text


def test_show_json(imvo: Imvo) -> None:
    found = imvo.json("show", "natuursteen")
    assert found["status"]["slug"] == "natuursteen"
    assert found["status"]["stage"] == "dialoog"
    assert {"name": "SER", "role": "facilitator"}.items() <= found["parties"][0].items()
    assert [t["phrase"] for t in found["targets"]] == ["Q1 van 2017"]
    assert found["targets"][0]["deadline"] == "2017-03-31"
    moves = [h for h in found["history"] if not is_record(h["trigger"])]
    assert [h["to_stage"] for h in moves] == ["verkenning", "dialoog"]
    # After its moves the seed records the report's target, SER joining and the source's text.
    assert [h["trigger"] for h in found["history"][2:]] == [
        "doel_vastgelegd",
        "partij_toegevoegd",
        "voortgangsnotitie",
    ]


# --- moving ---------------------------------------------------------------------------------


def test_move_is_recorded_in_history_and_status(imvo_on: Imvo) -> None:
    moved = imvo_on(
        "move",
        "natuursteen",
        "ondertekend",
        "--by",
        "A. de Vries",
        "--reason",
        "getekend op 14 februari",
    )
    assert "natuursteen: dialoog → ondertekend" in moved.stdout

    last = list(_rows(imvo_on("history", "natuursteen").stdout).values())[-1]
    assert last[2:5] == ["Dialoog → Ondertekend", "A. de Vries", "getekend op 14 februari"]

    rows = imvo_on.json("history", "natuursteen")
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["to_stage"] for r in rows if not is_record(r["trigger"])] == [
        "verkenning",
        "dialoog",
        "ondertekend",
    ]
    assert {
        "from_stage": "dialoog",
        "to_stage": "ondertekend",
        "trigger": "ondertekenen",
        "actor": "A. de Vries",
        "reason": "getekend op 14 februari",
        "occurred_on": "2016-11-01",
    }.items() <= rows[-1].items()

    by_slug = {row["slug"]: row for row in imvo_on.json("status")}
    assert by_slug["natuursteen"]["stage"] == "ondertekend"
    assert by_slug["natuursteen"]["since"] == "2016-11-01"


# --- the workflow definition ----------------------------------------------------------------


def test_stages_prints_the_graph(imvo: Imvo) -> None:
    rows = _rows(imvo("stages").stdout)
    assert {"verkenning (begin)", "ondertekend (eind)", "kwartiermaker", "afgezien"} <= set(rows)
    assert "heropenen → verkenning" in rows["afgezien"][2]


def test_stages_mermaid(imvo: Imvo) -> None:
    source = imvo("stages", "--mermaid").stdout
    assert source.startswith("stateDiagram-v2")
    assert "verkenning --> kwartiermaker" in source


def test_stages_json(imvo: Imvo) -> None:
    graph = imvo.json("stages")
    assert [s["name"] for s in graph["stages"]] == [
        "verkenning",
        "kwartiermaker",
        "dialoog",
        "intentieverklaring",
        "ondertekend",
        "afgezien",
        "opgegaan",
    ]
    assert len(graph["transitions"]) == 18


def test_stages_check_accepts_the_shipped_definition(imvo: Imvo) -> None:
    done = imvo("stages", "check", str(STAGES))
    assert "7 fasen, 18 overgangen" in _flat(done.stdout)


def test_stages_check_without_a_file_checks_the_definition_in_use(
    imvo: Imvo, tmp_path: Path
) -> None:
    shipped = _flat(imvo("stages", "check").stdout)
    assert f"{STAGES}: 7 fasen, 18 overgangen" in shipped
    own = tmp_path / "eigen.yaml"
    shutil.copy(STAGES, own)
    chosen = _flat(imvo("stages", "check", IMVO_STAGES_FILE=str(own)).stdout)
    assert f"{own}: 7 fasen" in chosen


#: Lines of data/stages.yaml replaced to break the graph, and the unknown stage each names.
BREAKAGES = [
    ("    dest: kwartiermaker\n", "    dest: kwartiermeester\n", "kwartiermeester"),
    ("    sources: [afgezien]\n", "    sources: [afgezien, gesloten]\n", "gesloten"),
]


def test_stages_check_names_file_and_line_of_every_problem(imvo: Imvo, tmp_path: Path) -> None:
    lines = STAGES.read_text(encoding="utf-8").splitlines(keepends=True)
    expected: list[str] = []
    for line, broken, unknown in BREAKAGES:
        assert lines.count(line) == 1
        number = lines.index(line) + 1
        lines[number - 1] = broken
        expected.append(f"{number}: onbekende fase '{unknown}'")
    path = tmp_path / "stages.yaml"
    path.write_text("".join(lines), encoding="utf-8")

    message = _flat(imvo("stages", "check", str(path), code=2).stderr)
    for problem in expected:
        assert f"{path}:{problem}" in message


# --- periods --------------------------------------------------------------------------------


def test_period(imvo: Imvo) -> None:
    text = imvo("period", "eerste helft 2017", "--reference", "2016-11-01").stdout
    assert "2017-01-01" in text
    assert "2017-06-30" in text


def test_period_json(imvo: Imvo) -> None:
    found = imvo.json("period", "eerste helft 2017", "--reference", "2016-11-01")
    assert (found["start"], found["end"]) == ("2017-01-01", "2017-06-30")


# --- refusals: exit 2, a message on stderr, never a traceback -------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "natuursteenn"], ["'natuursteenn'", "natuursteen?"]),
        (
            ["move", "chemie", "ondertekend", "--by", "X", "--reason", "Y"],
            ["'verkenning'", "'ondertekend'", "Toegestaan:", "kwartiermaker"],
        ),
        (["period", "op korte termijn"], ['"op korte termijn"']),
        (
            ["move", "chemie", "kwartiermaker", "--by", "X", "--on", "14-02-2017"],
            ["'14-02-2017'", "JJJJ-MM-DD"],
        ),
        (
            ["move", "chemie", "kwartiermaker", "--by", "X", "--on", "2017-02-31"],
            ["'2017-02-31'", "JJJJ-MM-DD"],
        ),
        (
            ["move", "chemie", "kwartiermaker", "--by", "X", "--expect-version", "99"],
            ["chemie", "99"],
        ),
        (["show", "[/foo]"], ["'[/foo]'"]),
    ],
    ids=[
        "unknown-sector",
        "forbidden-move",
        "unparseable-phrase",
        "date-format",
        "impossible-date",
        "stale-version",
        "name-with-rich-markup",
    ],
)
def test_refusal(imvo_rw: Imvo, args: list[str], expected: list[str]) -> None:
    stored = _contents(imvo_rw.path)
    message = _flat(imvo_rw(*args, code=2).stderr)
    for fragment in expected:
        assert fragment in message
    assert _contents(imvo_rw.path) == stored


#: The refusals of the PostgreSQL smoke set: one per kind of check (lookup, graph, version).
PG_REFUSALS = [
    (["show", "natuursteenn"], ["'natuursteenn'", "natuursteen?"]),
    (
        ["move", "chemie", "ondertekend", "--by", "X", "--reason", "Y"],
        ["'verkenning'", "'ondertekend'", "Toegestaan:", "kwartiermaker"],
    ),
    (
        ["move", "chemie", "kwartiermaker", "--by", "X", "--expect-version", "99"],
        ["chemie", "99"],
    ),
    (["move", "bouw", "verkenning", "--by", "X"], ["reden", "--reason"]),
]


def test_refusals_write_nothing_on_postgresql(pg_imvo: Imvo) -> None:
    stored = _stored(pg_imvo)
    for args, expected in PG_REFUSALS:
        message = _flat(pg_imvo(*args, code=2).stderr)
        for fragment in expected:
            assert fragment in message, (args, message)
    assert _stored(pg_imvo) == stored


def test_reopening_without_a_reason_is_refused(
    imvo_rw: Imvo, report_status: list[dict[str, Any]]
) -> None:
    assert {r["slug"]: r["stage"] for r in report_status}["bouw"] == "afgezien"
    stored = _contents(imvo_rw.path)
    message = _flat(imvo_rw("move", "bouw", "verkenning", "--by", "X", code=2).stderr)
    assert "reden" in message
    assert "--reason" in message
    assert _contents(imvo_rw.path) == stored


@pytest.mark.parametrize(
    "url",
    ["postgresql://nobody@127.0.0.1:1/nope", "nosuchdb://x"],
    ids=["unreachable", "malformed-url"],
)
def test_database_that_cannot_be_reached(url: str) -> None:
    # A real process: the entry point's refusal, with nothing of this test's process around it.
    message = _flat(Imvo(url, in_process=False)("status", code=2).stderr)
    assert "database" in message.lower()
    assert "IMVO_DATABASE_URL" in message


def test_database_not_migrated(tmp_path: Path) -> None:
    message = _flat(_sqlite(tmp_path / "fresh.db")("status", code=2).stderr)
    assert "`imvo db upgrade`" in message


def test_a_definition_that_strands_a_covenant_stops_every_command_that_uses_the_database(
    imvo_rw: Imvo,
) -> None:
    """The stranded-stage check runs at start-up of every process, not only in `move`."""
    with closing(sqlite3.connect(imvo_rw.path)) as conn:
        conn.execute("UPDATE covenant SET stage = 'oud_stadium' WHERE slug = 'bouw'")
        conn.commit()
    stored = _contents(imvo_rw.path)
    as_a_process = replace(imvo_rw, in_process=False)
    for args in [("status",), ("show", "natuursteen"), ("scheduler", "tick"), ("serve",)]:
        message = _flat(as_a_process(*args, code=2).stderr)
        assert "'oud_stadium'" in message, (args, message)
        assert "renamed_stages" in message, (args, message)
    assert _contents(imvo_rw.path) == stored
    assert "bijgewerkt" in _flat(imvo_rw("db", "current").stdout)  # says what state it is in


def test_commands_that_only_read_the_definition_need_no_database() -> None:
    nowhere = Imvo("postgresql://nobody@127.0.0.1:1/nope")
    assert "2017-01-01 t/m 2017-06-30" in nowhere("period", "eerste helft 2017").stdout
    assert "fasen" in nowhere("stages", "check", str(STAGES)).stdout
    assert "verkenning" in nowhere("stages").stdout


def test_db_current_says_whether_the_database_is_up_to_date(imvo: Imvo, tmp_path: Path) -> None:
    assert "bijgewerkt" in _flat(imvo("db", "current").stdout)
    empty = _flat(_sqlite(tmp_path / "leeg.db")("db", "current").stdout)
    assert "database: leeg" in empty
    assert "voer `imvo db upgrade` uit" in empty


def test_db_backup_writes_a_checked_copy_of_everything(imvo: Imvo, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "imvo-2016.db"
    target.parent.mkdir()  # a backup goes into a folder that exists (issue 11)
    done = imvo("db", "backup", str(target))
    assert f"back-up naar {target}" in _flat(done.stdout)
    assert "integriteit gecontroleerd" in done.stdout
    assert _contents(target) == _contents(imvo.path)
    assert [p.name for p in target.parent.iterdir()] == ["imvo-2016.db"]  # no .partial left


def test_db_backup_refusals(tmp_path: Path) -> None:
    target = str(tmp_path / "copy.db")
    postgres = Imvo("postgresql://postgres@127.0.0.1:5432/test")("db", "backup", target, code=2)
    assert "pg_dump" in _flat(postgres.stderr)
    missing = _sqlite(tmp_path / "missing.db")("db", "backup", target, code=2)
    assert "bestaat niet" in _flat(missing.stderr)
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    source = tmp_path / "source.db"
    sqlite3.connect(source).close()
    blocked = _sqlite(source)("db", "backup", str(tmp_path / "a-file" / "copy.db"), code=2)
    assert "Back-up mislukt" in _flat(blocked.stderr)


def test_clock_in_an_impossible_format(imvo: Imvo) -> None:
    message = _flat(imvo("status", code=2, IMVO_NOW="morgen").stderr)
    assert "IMVO_NOW" in message


def test_help(imvo: Imvo) -> None:
    text = imvo("--help").stdout
    for command in ("status", "show", "history", "move", "stages", "period", "seed", "db"):
        assert command in text


# -- issue 11: bounded input and no traceback, whatever the arguments ----------------------

BEYOND_64_BITS = str(2**64)


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["alerts", "ack", BEYOND_64_BITS, "--by", "X"], ["Onbekende melding", BEYOND_64_BITS]),
        (
            ["audit", "correct", "natuursteen", BEYOND_64_BITS, "--by", "X", "--reason", "Y"],
            ["Onbekende geschiedenisrij"],
        ),
        (["deadlines", "--within", "99999999999"], ["99999999999", "36500"]),
        (
            [
                *("targets", "set", "natuursteen", "ondertekend", "nog dit jaar"),
                *("--by", "X", "--reference", "9999-12-31"),
            ],
            ["9999", "1900", "2200"],
        ),
        (
            ["move", "chemie", "kwartiermaker", "--by", "X", "--reason", "x" * 2001],
            ["te lang", "2001", "2000"],
        ),
        (
            ["move", "chemie", "kwartiermaker", "--by", "X", "--reason", "ok\x1b[2J"],
            ["stuurteken", "U+001B"],
        ),
        (["move", "chemie", "kwartiermaker", "--by", "X", "--on", "1899-12-31"], ["1899"]),
        (["sign", "natuursteen", "SER", "--by", "X" * 201], ["te lang"]),
        (["users", "add", "Admin\u0007"], ["stuurteken"]),
        (["audit", "export", "--from", "0001-01-01"], ["1900"]),
        (["report", "--as-of", "9999-12-31"], ["9999"]),
        (["status", "--as-of", "9999-12-31"], ["9999"]),
    ],
    ids=[
        "alert-id-past-64-bits",
        "correction-seq-past-64-bits",
        "deadlines-within-huge",
        "year-from-the-reference",
        "reason-too-long",
        "reason-with-escape",
        "date-before-1900",
        "actor-too-long",
        "user-name-with-bell",
        "export-from-year-1",
        "report-in-9999",
        "status-in-9999",
    ],
)
def test_out_of_bounds_arguments_are_refused_with_a_message(
    imvo_rw: Imvo, args: list[str], expected: list[str]
) -> None:
    args = [a.encode().decode("unicode_escape") if "\\" in a else a for a in args]
    stored = _contents(imvo_rw.path)
    message = _flat(imvo_rw(*args, code=2).stderr)
    for fragment in expected:
        assert fragment in message, message
    assert _contents(imvo_rw.path) == stored


@pytest.mark.parametrize(
    "command",
    [
        ["report", "-o"],
        ["audit", "export", "-o"],
        ["db", "backup"],
    ],
    ids=["report", "audit-export", "db-backup"],
)
@pytest.mark.parametrize("where", ["missing-folder", "a-folder", "under-a-file"])
def test_an_output_path_that_cannot_be_written_is_refused_and_nothing_is_made(
    imvo_rw: Imvo, tmp_path: Path, command: list[str], where: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a-file").write_text("", encoding="utf-8")
    target = {
        "missing-folder": out / "nieuw" / "bestand",
        "a-folder": out,
        "under-a-file": out / "a-file" / "bestand",
    }[where]
    before = _files(out)

    message = _flat(imvo_rw(*command, str(target), code=2).stderr)

    assert "Fout:" in message
    assert _files(out) == before  # no folder, no empty file, no .partial
    assert not list(imvo_rw.path.parent.glob("*.partial"))


def test_refused_exports_leave_no_empty_file(imvo_rw: Imvo, tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    imvo_rw("audit", "export", "--sector", "bestaat-niet", "-o", str(target), code=2)
    imvo_rw("report", "--format", "pdf", "-o", str(tmp_path / "r.md"), code=2)
    assert _files(tmp_path) == {"imvo.db"} | {
        p.name for p in tmp_path.iterdir() if p.name.startswith("imvo.db-")
    }


def test_a_database_in_a_new_folder_is_refused_and_the_folder_not_made(tmp_path: Path) -> None:
    database = tmp_path / "nieuw" / "imvo.db"
    for args in (["status"], ["deadlines"], ["db", "backup", str(tmp_path / "b.db")]):
        message = _flat(_sqlite(database)(*args, code=2).stderr)
        assert "bestaat niet" in message, message
    assert _files(tmp_path) == set()
    # nor an empty file in a folder that exists
    message = _flat(_sqlite(tmp_path / "imvo.db")("status", code=2).stderr)
    assert "`imvo db upgrade`" in message
    assert _files(tmp_path) == set()


def test_only_db_upgrade_makes_a_database_and_its_folder(tmp_path: Path) -> None:
    database = tmp_path / "nieuw" / "imvo.db"
    _sqlite(database)("db", "upgrade")
    assert database.is_file()


def test_a_database_path_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    imvo = _sqlite(tmp_path / "a-file" / "sub" / "imvo.db")
    assert "Kan de map" in _flat(imvo("db", "upgrade", code=2).stderr)
    assert "bestaat niet" in _flat(imvo("status", code=2).stderr)


def test_a_corrupt_database_file(tmp_path: Path) -> None:
    database = tmp_path / "imvo.db"
    database.write_bytes(b"not a database, just bytes " * 200)
    stored = database.read_bytes()
    for args in (["status"], ["db", "upgrade"], ["db", "backup", str(tmp_path / "b.db")]):
        message = _flat(_sqlite(database)(*args, code=2).stderr)
        assert "not a database" in message, message
    assert database.read_bytes() == stored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imvo.db"]


@pytest.mark.parametrize("url", ["mysql://user@localhost/imvo", "oracle://x@y/z"])
def test_an_unsupported_database_is_named(url: str) -> None:
    message = _flat(Imvo(url)("status", code=2).stderr)
    assert "wordt niet ondersteund" in message
    assert "IMVO_DATABASE_URL" in message


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_serve_refuses_a_port_outside_1_to_65535(imvo: Imvo, port: str) -> None:
    done = imvo("serve", "--port", port, code=2)
    assert "--port" in done.stderr


def test_the_audit_csv_neutralises_formulas_and_ends_lines_in_crlf(
    imvo_rw: Imvo, tmp_path: Path
) -> None:
    formula = "=cmd|' /C calc'!A0"
    imvo_rw("move", "chemie", "kwartiermaker", "--by", "@boss", "--reason", formula)
    target = tmp_path / "export.csv"
    imvo_rw("audit", "export", "--sector", "chemie", "-o", str(target))
    stdout = subprocess.run(  # as bytes: text mode would turn CRLF into LF on reading
        [sys.executable, "-m", "imvo_workflow", "audit", "export"],
        cwd=ROOT,
        env=imvo_rw.env(),
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    for written in (target.read_bytes().decode(), stdout.decode()):
        lines = written.split("\r\n")
        assert lines[-1] == "" and all("\n" not in line for line in lines)
        rows = list(csv.DictReader(io.StringIO(written, newline="")))
        mine = [r for r in rows if r["covenant"] == "chemie"][-1]
        assert mine["reason"] == "'" + formula
        assert mine["actor"] == "'@boss"
