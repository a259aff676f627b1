"""`imvo audit`, `imvo report` and `imvo sign` as an auditor and a coordinator use them.

Each command runs as `python -m imvo_workflow` from the project root against a SQLite file of
its own, with the clock pinned to the report date (IMVO_NOW=2016-11-01). The database is
migrated and seeded once per module with `imvo db upgrade` and `imvo seed`; read-only tests
share one copy, tests that write or tamper get a fresh copy. Tampering is done as someone
with the database file would: sqlite3, drop the append-only trigger, edit the row.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli_runner import Done, run_imvo
from imvo_workflow.domain.record import is_record

ROOT = Path(__file__).resolve().parents[2]
COVENANTS = 21


@dataclass(frozen=True)
class Imvo:
    """Runs `imvo` against one SQLite file; `code` is the exit status the test expects."""

    path: Path

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("IMVO_") and k != "FORCE_COLOR"
        }
        return env | {
            "IMVO_DATABASE_URL": f"sqlite:///{self.path}",
            "IMVO_NOW": "2016-11-01",
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
        }

    def __call__(self, *args: str, code: int = 0) -> Done:
        done = run_imvo(args, self.env())
        shown = f"imvo {' '.join(args)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert done.returncode == code, shown
        assert "Traceback" not in done.stdout + done.stderr, shown
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def sql(self, script: str) -> None:
        """What someone with the database file can do, behind the application's back."""
        with closing(sqlite3.connect(self.path)) as conn:
            conn.executescript(script)

    def scalar(self, query: str) -> Any:
        with closing(sqlite3.connect(self.path)) as conn:
            return conn.execute(query).fetchone()[0]


def _copy(source: Path, target: Path) -> Imvo:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return Imvo(target)


def _flat(text: str) -> str:
    return " ".join(text.split())


GOUD = "(SELECT id FROM covenant WHERE slug = 'goud')"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "imvo.db"
    imvo = Imvo(path)
    imvo("db", "upgrade")
    imvo("seed")
    return path


@pytest.fixture(scope="module")
def imvo(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Imvo:
    """For tests that only read."""
    return _copy(template, tmp_path_factory.mktemp("readonly") / "imvo.db")


@pytest.fixture
def imvo_rw(template: Path, tmp_path: Path) -> Imvo:
    """For tests that write or tamper: a fresh copy."""
    return _copy(template, tmp_path / "imvo.db")


# --- verify ---------------------------------------------------------------------------------


def test_verify_says_the_history_is_untouched(imvo: Imvo) -> None:
    text = _flat(imvo("audit", "verify").stdout)
    assert f"{COVENANTS} convenanten" in text
    assert "de geschiedenis is onaangetast" in text
    found = imvo.json("audit", "verify")
    assert found["ok"] is True
    assert found["problems"] == []
    assert found["rows"] == imvo.scalar("SELECT count(*) FROM transition")


def test_the_database_refuses_an_edit_of_history(imvo_rw: Imvo) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="alleen worden aangevuld"):
        imvo_rw.sql(f"UPDATE transition SET reason = 'x' WHERE covenant_id = {GOUD};")
    imvo_rw("audit", "verify")


def test_verify_names_the_covenant_and_row_of_a_changed_reason(imvo_rw: Imvo) -> None:
    imvo_rw.sql(
        "DROP TRIGGER transition_no_update;"
        f"UPDATE transition SET reason = 'nooit gebeurd' WHERE covenant_id = {GOUD} AND seq = 2;"
    )
    done = imvo_rw("audit", "verify", code=1)
    text = _flat(done.stdout)
    assert "goud, rij 2" in text
    assert "gewijzigd" in text
    assert "onaangetast" not in text
    found = json.loads(imvo_rw("audit", "verify", "--json", code=1).stdout)
    assert found["ok"] is False
    assert [(p["covenant"], p["seq"]) for p in found["problems"]] == [("goud", 2)]


def test_a_checkpoint_file_catches_a_cut_tail_the_database_forgot(
    imvo_rw: Imvo, tmp_path: Path
) -> None:
    outside = tmp_path / "checkpoints.jsonl"
    made = _flat(imvo_rw("audit", "checkpoint", "--file", str(outside)).stdout)
    assert f"{COVENANTS} convenanten" in made
    assert outside.exists()
    imvo_rw.sql(
        "DROP TRIGGER transition_no_delete; DROP TRIGGER audit_checkpoint_no_delete;"
        # the tail from its last move on (the seed's record entries come after it)
        f"DELETE FROM transition WHERE covenant_id = {GOUD} AND seq >= 3;"
        "UPDATE covenant SET last_seq = 2, stage = 'intentieverklaring',"
        f" head_hash = (SELECT hash FROM transition WHERE covenant_id = {GOUD} AND seq = 2)"
        " WHERE slug = 'goud';"
        "DELETE FROM audit_checkpoint;"
    )
    imvo_rw("audit", "verify")  # the database alone cannot tell any more
    text = _flat(imvo_rw("audit", "verify", "--checkpoints", str(outside), code=1).stdout)
    # the checkpoint's head row of goud (its last record entry) is named as missing
    assert "goud, rij" in text
    assert "checkpoint" in text


def test_verify_with_a_missing_checkpoint_file_is_refused(imvo: Imvo, tmp_path: Path) -> None:
    done = imvo("audit", "verify", "--checkpoints", str(tmp_path / "nergens.jsonl"), code=2)
    assert "checkpointbestand" in done.stderr


# --- export ---------------------------------------------------------------------------------


def test_export_csv_of_one_sector(imvo: Imvo) -> None:
    done = imvo("audit", "export", "--format", "csv", "--sector", "goud")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["covenant"], r["seq"], r["to_stage"]) for r in rows[:3]] == [
        ("goud", "1", "verkenning"),
        ("goud", "2", "intentieverklaring"),
        ("goud", "3", "dialoog"),
    ]
    # then the seed's record entries (parties, its target, its first note), each with detail
    assert rows[3:] and all(is_record(r["trigger"]) and r["detail"] for r in rows[3:])


def test_export_json_of_everything_and_of_a_period(imvo: Imvo, tmp_path: Path) -> None:
    items = json.loads(imvo("audit", "export", "--format", "json").stdout)
    assert len(items) == imvo.scalar("SELECT count(*) FROM transition")
    assert {i["covenant"] for i in items} >= {"goud", "toerisme-suriname"}
    period = json.loads(
        imvo(
            "audit", "export", "--format", "json", "--from", "2016-09-01", "--to", "2016-10-31"
        ).stdout
    )
    assert period
    assert all("2016-09-01" <= i["occurred_on"] <= "2016-10-31" for i in period)
    target = tmp_path / "history.json"
    done = imvo("audit", "export", "--format", "json", "-o", str(target))
    assert f"{len(items)} rijen" in _flat(done.stdout)
    assert json.loads(target.read_text(encoding="utf-8")) == items


def test_export_refuses_an_unknown_format(imvo: Imvo) -> None:
    assert "formaat" in imvo("audit", "export", "--format", "xml", code=2).stderr


# --- as of, known at --------------------------------------------------------------------------


def test_status_as_of_and_known_at(imvo: Imvo) -> None:
    as_of = {r["slug"]: r["stage"] for r in imvo.json("status", "--as-of", "2016-06-30")}
    assert as_of["goud"] == "dialoog"
    assert as_of["natuursteen"] == "dialoog"
    assert "chemie" not in as_of  # its verkenning is dated 1 November
    assert imvo.json("status", "--known-at", "2016-06-30") == []  # entered on 1 November
    assert len(imvo.json("status", "--known-at", "2016-11-01")) == COVENANTS
    imvo("status", "--as-of", "2016-06-30", "--known-at", "2016-06-30", code=2)


# --- report ---------------------------------------------------------------------------------


def test_report_html_to_a_file(imvo: Imvo, tmp_path: Path) -> None:
    target = tmp_path / "f.html"
    done = imvo("report", "--as-of", "2016-11-01", "--format", "html", "-o", str(target))
    assert "rapport per 2016-11-01" in _flat(done.stdout)
    page = target.read_text(encoding="utf-8")
    assert "@media print" in page
    assert "Q1 van 2017" in page
    assert "<svg" in page


def test_report_markdown_to_stdout(imvo: Imvo) -> None:
    text = imvo("report", "--as-of", "2016-11-01").stdout
    assert text.startswith("# Voortgang IMVO-convenanten")
    assert "## Overige sectoren" in text
    assert '"Q1 van 2017" (uiterlijk 31-03-2017)' in text


def test_report_for_a_day_before_most_covenants_began(imvo: Imvo) -> None:
    text = imvo("report", "--as-of", "2015-12-31").stdout
    assert "### Goud" in text
    assert "### Bouw" not in text


def test_report_known_at_a_day_takes_a_date_like_status(imvo: Imvo) -> None:
    # The 2016 data was entered on 1 November 2016: on 30 June the database knew nothing.
    before = imvo("report", "--known-at", "2016-06-30").stdout
    assert "(zoals bekend op die dag)" in before
    assert "### Goud" not in before
    known = imvo("report", "--known-at", "2016-11-01").stdout
    assert "### Goud" in known
    done = imvo("report", "--as-of", "2016-06-30", "--known-at", "2016-06-30", code=2)
    assert "Kies --as-of of --known-at, niet allebei." in _flat(done.stderr)


def test_report_refuses_pdf(imvo: Imvo) -> None:
    done = imvo("report", "--format", "pdf", code=2)
    assert "Onbekend formaat 'pdf'" in _flat(done.stderr)
    assert done.stdout == ""


# --- corrections and signatures -------------------------------------------------------------


def test_correct_a_date(imvo_rw: Imvo) -> None:
    done = imvo_rw(
        "audit",
        "correct",
        "goud",
        "2",
        "--by",
        "X",
        "--reason",
        "datum was 15 december",
        "--on",
        "2015-12-15",
    )
    seq = imvo_rw.scalar(f"SELECT max(seq) FROM transition WHERE covenant_id = {GOUD}")
    assert f"goud: rij {seq} corrigeert rij 2" in _flat(done.stdout)
    assert (
        imvo_rw.scalar(
            f"SELECT corrects_seq FROM transition WHERE covenant_id = {GOUD} AND seq = {seq}"
        )
        == 2
    )
    imvo_rw("audit", "verify")
    on_10th = {r["slug"]: r["stage"] for r in imvo_rw.json("status", "--as-of", "2015-12-10")}
    assert on_10th["goud"] == "verkenning"
    on_20th = {r["slug"]: r["stage"] for r in imvo_rw.json("status", "--as-of", "2015-12-20")}
    assert on_20th["goud"] == "intentieverklaring"
    refused = imvo_rw("audit", "correct", "goud", "2", "--by", "X", code=2)
    assert "reden" in refused.stderr


def test_sign(imvo_rw: Imvo) -> None:
    """Signing natuursteen (in dialogue) in one step: the move and SER's signature."""
    unknown = imvo_rw("sign", "natuursteen", "Solidaridat", "--by", "X", code=2)
    assert "Solidaridad" in _flat(unknown.stderr)
    future = imvo_rw("sign", "natuursteen", "SER", "--by", "X", "--on", "2016-11-02", code=2)
    assert "toekomst" in _flat(future.stderr)
    assert imvo_rw.scalar("SELECT count(*) FROM signature") == 0
    done = imvo_rw("sign", "natuursteen", "SER", "--by", "X", "--on", "2016-10-01")
    assert "natuursteen ondertekend op 2016-10-01 door SER" in _flat(done.stdout)
    again = imvo_rw("sign", "natuursteen", "SER", "--by", "X", "--on", "2016-10-01", code=2)
    assert "al ondertekend" in _flat(again.stderr)
    assert imvo_rw.scalar("SELECT count(*) FROM signature") == 1
