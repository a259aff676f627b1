"""Deadlines, targets, users and alerts as a coordinator and an operator use them from `imvo`.

Same approach as test_cli.py: real subprocesses (`python -m imvo_workflow`) against a SQLite
file of their own, the clock pinned with IMVO_NOW. Starting the CLI costs about 1.5 s, so
the expensive set-ups are done once per module and copied per test: the seeded report, the
report with a subscriber (anna: the inbox for every sector, the log for chemie), and that
database after one scheduler tick on 1 December 2016, when Chemie's research results
("tweede helft november 2016", deadline 30 November) are overdue.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli_runner import Done, run_imvo

ROOT = Path(__file__).resolve().parents[2]
#: The report's date, the clock of every command unless a test says otherwise.
REPORT_DAY = "2016-11-01"
#: The morning after Chemie's research deadline (2016-11-30), after the 09:00 send hour.
AFTER_DEADLINE = "2016-12-01T10:00"
CHEMIE_RESEARCH = "Resultaten oriënterend onderzoek VNCI"


@dataclass(frozen=True)
class Imvo:
    """Runs `imvo` against one SQLite file with the clock at `now` (IMVO_NOW)."""

    path: Path
    now: str = REPORT_DAY

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("IMVO_") and k != "FORCE_COLOR"
        }
        env |= {
            "IMVO_DATABASE_URL": f"sqlite:///{self.path}",
            "IMVO_NOW": self.now,
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
        }
        return env | extra

    def run(self, *args: str, **env: str) -> Done:
        """`imvo *args`, whatever its outcome."""
        return run_imvo(args, self.env(**env))

    def __call__(self, *args: str, code: int | None = 0, **env: str) -> Done:
        """`imvo *args`, checked: the exit status (unless `code=None`) and no traceback."""
        done = self.run(*args, **env)
        assert code is None or done.returncode == code, _shown(args, done)
        assert "Traceback" not in done.stdout + done.stderr, _shown(args, done)
        return done

    def json(self, *args: str, **env: str) -> Any:
        return json.loads(self(*args, "--json", code=0, **env).stdout)


def _shown(args: Sequence[str], done: Done) -> str:
    return f"imvo {' '.join(args)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


def _copy(source: Path, target: Path, now: str = REPORT_DAY) -> Imvo:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return Imvo(target, now)


def _contents(path: Path) -> list[str]:
    """Everything stored in a SQLite file, as SQL: equal lists mean nothing was written."""
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


def _query(path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchall()


def _flat(text: str) -> str:
    """Rich wraps long messages at the console width; compare them as one line."""
    return " ".join(text.split())


def _table(text: str) -> list[list[str]]:
    """The body rows of a rich table, as lists of stripped cells."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in text.splitlines()
        if line.startswith("│")
    ]


# --- module templates -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated with `imvo db upgrade` and loaded with `imvo seed`, once."""
    imvo = Imvo(tmp_path_factory.mktemp("seeded") / "imvo.db")
    imvo("db", "upgrade")
    imvo("seed")
    return imvo.path


@pytest.fixture(scope="module")
def imvo(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Imvo:
    """For tests that only read: one copy of the seeded report, shared by the module."""
    return _copy(seeded, tmp_path_factory.mktemp("readonly") / "imvo.db")


@pytest.fixture
def imvo_rw(seeded: Path, tmp_path: Path) -> Imvo:
    """For tests that write (or try to): a fresh copy of the seeded report."""
    return _copy(seeded, tmp_path / "imvo.db")


@dataclass(frozen=True)
class Subscribed:
    path: Path
    outputs: list[str]


@pytest.fixture(scope="module")
def subscribed(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Subscribed:
    """The report plus anna: the inbox for every sector and the log for chemie."""
    imvo = _copy(seeded, tmp_path_factory.mktemp("subscribed") / "imvo.db")
    outputs = [
        _flat(imvo(*args).stdout)
        for args in (
            ("users", "add", "anna", "--email", "anna@example.org"),
            ("users", "subscribe", "anna", "--channel", "inbox"),
            ("users", "subscribe", "anna", "--channel", "log", "--sector", "chemie"),
        )
    ]
    return Subscribed(imvo.path, outputs)


@pytest.fixture
def subscribed_rw(subscribed: Subscribed, tmp_path: Path) -> Imvo:
    return _copy(subscribed.path, tmp_path / "imvo.db")


@dataclass(frozen=True)
class Ticked:
    path: Path
    tick: dict[str, Any]
    inbox: list[dict[str, Any]]

    @property
    def chemie_due(self) -> dict[str, Any]:
        found = [a for a in self.inbox if a["covenant"] == "chemie" and a["kind"] == "due"]
        assert len(found) == 1, self.inbox
        return found[0]


@pytest.fixture(scope="module")
def ticked(subscribed: Subscribed, tmp_path_factory: pytest.TempPathFactory) -> Ticked:
    """`imvo scheduler tick` on 1 December 2016 and the inbox after it, once."""
    imvo = _copy(subscribed.path, tmp_path_factory.mktemp("ticked") / "imvo.db", AFTER_DEADLINE)
    tick = imvo.json("scheduler", "tick")
    inbox = imvo.json("alerts", "list")
    return Ticked(imvo.path, tick, inbox)


@pytest.fixture
def ticked_rw(ticked: Ticked, tmp_path: Path) -> Imvo:
    """A fresh copy of the ticked database, its clock still on 1 December 2016."""
    return _copy(ticked.path, tmp_path / "imvo.db", AFTER_DEADLINE)


# --- deadlines ------------------------------------------------------------------------------


def test_deadlines_lists_chemie_research_as_due_soon(imvo: Imvo) -> None:
    rows = [r for r in _table(imvo("deadlines").stdout) if r[:2] == ["chemie", CHEMIE_RESEARCH]]
    assert len(rows) == 1
    assert rows[0][2:] == ["tweede helft november 2016", "2016-11-30", "nog 29 dagen"]


def test_deadlines_json(imvo: Imvo) -> None:
    rows: list[dict[str, Any]] = imvo.json("deadlines")
    for row in rows:
        assert {"covenant", "what", "phrase", "deadline", "days_left", "overdue"} <= row.keys()
        assert row["overdue"] is (row["days_left"] < 0)
    assert [r["deadline"] for r in rows] == sorted(r["deadline"] for r in rows)
    chemie = [r for r in rows if r["covenant"] == "chemie"]
    assert chemie == [
        chemie[0]
        | {
            "what": CHEMIE_RESEARCH,
            "phrase": "tweede helft november 2016",
            "deadline": "2016-11-30",
            "days_left": 29,
            "overdue": False,
        }
    ]


def test_deadlines_within_0_shows_only_the_overdue_ones(imvo: Imvo) -> None:
    rows = _table(imvo("deadlines", "--within", "0").stdout)
    assert sorted((r[0], r[2], r[3]) for r in rows) == [
        ("metallurgische-industrie", "eind oktober", "2016-10-31"),
        ("technologische-industrie", "eind oktober", "2016-10-31"),
    ]
    assert all(r[4] == "1 dag te laat" for r in rows)


# --- targets --------------------------------------------------------------------------------


def test_changing_a_target_keeps_the_old_deadline_visible(imvo_rw: Imvo) -> None:
    done = imvo_rw(
        "targets",
        "set",
        "natuursteen",
        "ondertekend",
        "eerste helft 2017",
        "--by",
        "A. de Vries",
        "--reason",
        "SER verwacht vertraging",
    )
    text = _flat(done.stdout)
    assert "2017-06-30" in text
    assert '"Q1 van 2017"' in text

    changes = imvo_rw.json("targets", "list", "natuursteen")["changes"]
    assert [(c["what"], c["old_phrase"], c["new_phrase"]) for c in changes] == [
        ("fase ondertekend", None, "Q1 van 2017"),
        ("fase ondertekend", "Q1 van 2017", "eerste helft 2017"),
    ]
    assert {
        "old_deadline": "2017-03-31",
        "new_deadline": "2017-06-30",
        "actor": "A. de Vries",
        "reason": "SER verwacht vertraging",
    }.items() <= changes[-1].items()

    table = _table(imvo_rw("targets", "list", "natuursteen").stdout)
    changes_table = [row for row in table if len(row) == 6]  # then planned against actual (7)
    assert [row[:4] for row in changes_table] == [
        ["fase ondertekend", "—", "Q1 van 2017 (2017-03-31)", "Voortgangsrapportage 2016"],
        ["fase ondertekend", "Q1 van 2017 (2017-03-31)", "eerste helft 2017 (2017-06-30)",
         "A. de Vries"],
    ]  # fmt: skip

    found = imvo_rw.json("show", "natuursteen")
    assert [(t["stage"], t["phrase"], t["deadline"]) for t in found["targets"]] == [
        ("ondertekend", "eerste helft 2017", "2017-06-30")
    ]
    assert found["status"]["next_target"]["deadline"] == "2017-06-30"


def test_setting_a_milestone(imvo_rw: Imvo) -> None:
    done = imvo_rw("targets", "set", "chemie", "Eindrapport", "Q1 2017", "--milestone", "--by", "X")
    assert "2017-03-31" in done.stdout
    again = imvo_rw.json(
        "targets", "set", "chemie", "Eindrapport", "Q2 2017", "--milestone", "--by", "X",
        "--reason", "later",
    )  # fmt: skip
    assert {"phrase": "Q2 2017", "deadline": "2017-06-30", "old_phrase": "Q1 2017"}.items() <= (
        again.items()
    )
    stored = _query(
        imvo_rw.path,
        "SELECT t.stage, t.phrase, t.deadline FROM target t JOIN covenant c"
        " ON c.id = t.covenant_id WHERE c.slug = 'chemie' AND t.milestone = 'Eindrapport'",
    )
    assert stored == [(None, "Q2 2017", "2017-06-30")]


def test_moving_past_a_targeted_stage_closes_that_target(imvo_rw: Imvo) -> None:
    """A target for a stage the covenant skipped can no longer be met: no more deadlines."""
    imvo_rw("targets", "set", "chemie", "kwartiermaker", "Q1 2017", "--by", "X")
    imvo_rw("move", "chemie", "dialoog", "--by", "X")
    rows = imvo_rw.json("deadlines", "--within", "365")
    assert [r["what"] for r in rows if r["covenant"] == "chemie"] == [CHEMIE_RESEARCH]


# --- refusals: exit 2, a message on stderr, never a traceback, nothing written -------------


#: Each refusal: the arguments, and what the message on stderr must say.
REFUSALS: dict[str, tuple[list[str], list[str]]] = {
    "unparseable-phrase": (
        ["targets", "set", "natuursteen", "ondertekend", "op korte termijn", "--by", "X"],
        ['"op korte termijn"'],
    ),
    "stage-already-passed": (
        ["targets", "set", "natuursteen", "verkenning", "Q1 2017", "--by", "X"],
        ["natuursteen", "'dialoog'", "'verkenning'"],
    ),
    "deadline-before-reference": (
        ["targets", "set", "natuursteen", "ondertekend", "december 2015", "--by", "X"],
        ['"december 2015"', "2015-12-31", REPORT_DAY],
    ),
    "unknown-covenant": (
        ["targets", "set", "natuursteenn", "ondertekend", "Q1 2017", "--by", "X"],
        ["'natuursteenn'", "natuursteen?"],
    ),
    "unknown-channel": (
        ["users", "subscribe", "anna", "--channel", "sms"],
        ["'sms'", "email, webhook"],
    ),
    "malformed-email": (
        ["users", "subscribe", "anna", "--channel", "email", "--address", "not-an-address"],
        ["'not-an-address'", "e-mailadres"],
    ),
    "non-http-webhook": (
        ["users", "subscribe", "anna", "--channel", "webhook", "--address", "ftp://x"],
        ["'ftp://x'", "http"],
    ),
    "unknown-user": (["users", "subscribe", "bob", "--channel", "inbox"], ["gebruiker", "'bob'"]),
    "unknown-role": (["users", "add", "x", "--role", "king"], ["'king'", "admin"]),
    "unknown-alert": (["alerts", "ack", "999", "--by", "X"], ["melding", "'999'"]),
}


@dataclass(frozen=True)
class Refused:
    done: Done
    written: bool


@pytest.fixture(scope="module")
def refusals(
    subscribed: Subscribed, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Refused]:
    """Every refusal on its own copy of the report with anna."""
    copies = {
        case: _copy(subscribed.path, tmp_path_factory.mktemp(case) / "imvo.db") for case in REFUSALS
    }

    def attempt(case: str) -> Refused:
        imvo = copies[case]
        stored = _contents(imvo.path)
        done = imvo.run(*REFUSALS[case][0])
        return Refused(done, _contents(imvo.path) != stored)

    return {case: attempt(case) for case in REFUSALS}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal(refusals: dict[str, Refused], case: str) -> None:
    args, expected = REFUSALS[case]
    done, shown = refusals[case].done, _shown(args, refusals[case].done)
    assert done.returncode == 2, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    message = _flat(done.stderr)
    assert message.startswith("Fout:"), shown
    for fragment in expected:
        assert fragment in message, shown
    assert not refusals[case].written, shown


# --- users, the scheduler's tick and the inbox ----------------------------------------------


def test_adding_and_subscribing_a_user(subscribed: Subscribed) -> None:
    added, inbox, log = subscribed.outputs
    assert "gebruiker anna (coordinator)" in added
    assert "anna: inbox voor alle sectoren" in inbox
    assert "anna: log voor chemie" in log


def test_tick_after_the_deadline_raises_and_delivers(ticked: Ticked) -> None:
    scan, drain = ticked.tick["scan"], ticked.tick["drain"]
    assert scan["raised"] > 0
    assert scan["deliveries"] > 0
    assert drain["sent"] > 0
    assert drain["failed"] == 0
    assert ticked.tick["digests"] == 0


def test_a_second_tick_raises_nothing(ticked_rw: Imvo) -> None:
    alerts = _query(ticked_rw.path, "SELECT id FROM alert ORDER BY id")
    again = ticked_rw.json("scheduler", "tick")
    assert again["scan"]["raised"] == 0
    assert again["scan"]["deliveries"] == 0
    assert again["drain"] == {"sent": 0, "failed": 0}
    assert _query(ticked_rw.path, "SELECT id FROM alert ORDER BY id") == alerts


def test_the_inbox_has_chemie_research_due(ticked: Ticked) -> None:
    assert {
        "kind": "due",
        "what": CHEMIE_RESEARCH,
        "phrase": "tweede helft november 2016",
        "deadline": "2016-11-30",
        "acked_at": None,
        # anna's inbox (every sector) and her log (chemie), both delivered
        "deliveries": 2,
        "delivered": 2,
    }.items() <= ticked.chemie_due.items()


def test_acknowledging_takes_an_alert_out_of_the_inbox(ticked: Ticked, ticked_rw: Imvo) -> None:
    alert_id = ticked.chemie_due["id"]
    done = ticked_rw("alerts", "ack", str(alert_id), "--by", "anna")
    assert f"melding {alert_id} afgehandeld door anna" in _flat(done.stdout)

    open_ids = [a["id"] for a in ticked_rw.json("alerts", "list")]
    assert alert_id not in open_ids
    assert len(open_ids) == len(ticked.inbox) - 1

    everything = {a["id"]: a for a in ticked_rw.json("alerts", "list", "--all")}
    assert everything[alert_id]["acked_by"] == "anna"
    assert everything[alert_id]["acked_at"] is not None

    # The table a coordinator reads: open ones only, unless --all; who handled it and when.
    shown = {row[0]: row for row in _table(ticked_rw("alerts", "list").stdout)}
    assert str(alert_id) not in shown
    assert len(shown) == len(ticked.inbox) - 1
    handled = {row[0]: row for row in _table(ticked_rw("alerts", "list", "--all").stdout)}
    assert handled[str(alert_id)][1:] == [
        "due", "chemie", CHEMIE_RESEARCH, "2016-11-30", "2/2", "anna 2016-12-01"
    ]  # fmt: skip


def test_acknowledging_twice_does_not_claim_the_second_actor(
    ticked: Ticked, ticked_rw: Imvo
) -> None:
    """The first acknowledgement stands, and the second is told so (a refusal or a notice).

    Either way it must not report that bob handled the alert: anna did.
    """
    alert_id = ticked.chemie_due["id"]
    ticked_rw("alerts", "ack", str(alert_id), "--by", "anna")
    again = ticked_rw("alerts", "ack", str(alert_id), "--by", "bob", code=None)
    assert again.returncode in (0, 2), again.stderr
    assert "afgehandeld door bob" not in _flat(again.stdout)
    assert "anna" in _flat(again.stdout + again.stderr)
    assert _query(ticked_rw.path, "SELECT acked_by FROM alert WHERE id = ?", alert_id) == [
        ("anna",)
    ]


def test_acknowledging_without_a_name_is_refused(ticked: Ticked, ticked_rw: Imvo) -> None:
    stored = _contents(ticked_rw.path)
    message = _flat(
        ticked_rw("alerts", "ack", str(ticked.chemie_due["id"]), "--by", " ", code=2).stderr
    )
    assert "--by" in message
    assert _contents(ticked_rw.path) == stored


def test_the_digest_is_raised_once_per_day(subscribed_rw: Imvo) -> None:
    def digests(now: str) -> int:
        result = subscribed_rw.json("scheduler", "tick", "--digest", IMVO_NOW=now)
        count: int = result["digests"]
        return count

    assert digests(AFTER_DEADLINE) == 1  # anna; her log subscription gets no digest
    assert digests(AFTER_DEADLINE) == 0
    assert digests("2016-12-02T10:00") == 1
    assert _query(subscribed_rw.path, "SELECT count(*) FROM alert WHERE kind = 'digest'") == [(2,)]


# --- the long-running scheduler -------------------------------------------------------------


@pytest.fixture
def scheduler(imvo_rw: Imvo, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    """`imvo scheduler run` in the background, its output in files; killed if a test fails."""
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("w") as out, stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "imvo_workflow", "scheduler", "run"],
            cwd=ROOT,
            env=imvo_rw.env(IMVO_SCAN_INTERVAL_SECONDS="1", PYTHONUNBUFFERED="1"),
            stdout=out,
            stderr=err,
            encoding="utf-8",
        )
    try:
        yield proc, stdout, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)


def test_scheduler_run_stops_cleanly_on_sigterm(
    scheduler: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    proc, stdout, stderr = scheduler
    deadline = time.monotonic() + 30
    while "Planner draait" not in stdout.read_text(encoding="utf-8"):
        assert proc.poll() is None, stderr.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, "the scheduler did not say it runs"
        time.sleep(0.1)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=15)

    out, err = stdout.read_text(encoding="utf-8"), stderr.read_text(encoding="utf-8")
    assert code == 0, f"{out}\n{err}"
    assert "Planner gestopt" in out
    assert "Traceback" not in out + err
    assert "imvo.scheduler scan" in err  # it scanned while it ran


# --- an 80-column terminal ------------------------------------------------------------------

#: The tables a coordinator reads, each with at least one date and (on 1 December) TE LAAT.
TABLES = [
    ("status",),
    ("show", "natuursteen"),
    ("history", "goud"),
    ("targets", "list", "natuursteen"),
    ("deadlines",),
    ("alerts", "list", "--all"),
]


def test_tables_fit_80_columns_without_cutting_a_date_or_a_mark(ticked_rw: Imvo) -> None:
    alert_id = ticked_rw.json("alerts", "list")[0]["id"]
    ticked_rw("alerts", "ack", str(alert_id), "--by", "anna")  # fills "Afgehandeld" too
    shown = {args: ticked_rw(*args, COLUMNS="80").stdout for args in TABLES}
    for args, text in shown.items():
        wide = [line for line in text.splitlines() if len(line) > 80]
        assert not wide, _shown(args, ticked_rw.run(*args, COLUMNS="80"))
        # a history entry quotes a progress note's first words, shortened on purpose with "…"
        # (domain/entry_text.py); elsewhere "…" would be a cell Rich cut off
        assert "…" not in text or args[0] in {"show", "history"}, text
    assert (
        "2016-10-31" in shown["status",]
    )  # when most covenants reached their stage (the seed's report date)
    assert "TE LAAT" in shown["status",]
    assert "Q1 van 2017" in shown["show", "natuursteen"]
    assert "2017-03-31" in shown["show", "natuursteen"]
    assert "2015-10-01" in shown["history", "goud"]
    assert "(2017-03-31)" in shown["targets", "list", "natuursteen"]
    assert "1 dag te laat" in shown["deadlines",]  # Chemie's research, due 30 November
    assert "2016-11-30" in shown["deadlines",]
    assert "2016-11-30" in shown["alerts", "list", "--all"]
    assert "2016-12-01" in shown["alerts", "list", "--all"]  # anna's acknowledgement
