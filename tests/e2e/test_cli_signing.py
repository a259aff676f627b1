"""`imvo sign`, `imvo targets close`, `imvo move --signatory --milestone`, `imvo show` and
`imvo history` through the real entry point, on the seeded 2016 report (1 November 2016).

natuursteen is in dialogue since 1 June 2016 with SER as facilitator. Every refusal is exit
code 2 with a Dutch message and no traceback, and writes nothing.
"""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Imvo:
    path: Path

    def __call__(self, *args: str, code: int = 0) -> Done:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
        env |= {
            "IMVO_DATABASE_URL": f"sqlite:///{self.path}",
            "IMVO_NOW": "2016-11-01",
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
        }
        done = run_imvo(args, env)
        shown = f"imvo {' '.join(args)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert done.returncode == code, shown
        assert "Traceback" not in done.stdout + done.stderr, shown
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def scalar(self, query: str) -> Any:
        with closing(sqlite3.connect(self.path)) as conn:
            return conn.execute(query).fetchone()[0]

    def rows(self) -> int:
        return int(self.scalar("SELECT count(*) FROM transition"))


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    imvo = Imvo(tmp_path_factory.mktemp("seeded") / "imvo.db")
    imvo("db", "upgrade")
    imvo("seed")
    return imvo.path


@pytest.fixture
def imvo(template: Path, tmp_path: Path) -> Imvo:
    target = tmp_path / "imvo.db"
    shutil.copy(template, target)
    return Imvo(target)


def _milestone(imvo: Imvo, text: str = "Oogstdag") -> int:
    imvo("targets", "set", "natuursteen", text, "1 oktober 2016", "--milestone", "--by", "X",
         "--reference", "2016-06-01")  # fmt: skip
    found = imvo.json("targets", "list", "natuursteen")["targets"]
    return int(next(t["id"] for t in found if t["milestone"] == text))


def test_sign_in_one_step_and_show_it_everywhere(imvo: Imvo) -> None:
    done = imvo("sign", "natuursteen", "SER", "--by", "X", "--on", "2016-10-01")
    assert "natuursteen ondertekend op 2016-10-01 door SER" in _flat(done.stdout)
    shown = imvo.json("show", "natuursteen")
    assert shown["status"]["stage"] == "ondertekend"
    assert [(s["organisation"], s["signed_on"]) for s in shown["signatures"]] == [
        ("SER", "2016-10-01")
    ]
    table = _flat(imvo("show", "natuursteen").stdout)
    assert "Ondertekend door" in table and "SER" in table
    history = _flat(imvo("history", "natuursteen").stdout)
    assert "Dialoog → Ondertekend" in history and "Ondertekend door: SER" in history
    imvo("audit", "verify")
    exported = imvo("audit", "export", "--sector", "natuursteen").stdout
    assert exported.splitlines()[0].endswith(",detail")
    assert '""organisation"":""SER""' in exported
    # an extra signatory, added as a party in the same step
    extra = imvo("sign", "natuursteen", "FNV", "--by", "X", "--add-as-party", "--on", "2016-10-20")
    assert "extra ondertekenaars vastgelegd" in _flat(extra.stdout)
    assert "Partij toegevoegd: FNV (partij)" in _flat(imvo("history", "natuursteen").stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["FNV", "--on", "2016-10-01"], "geen partij"),
        (["Solidaridat"], "Bedoelde je"),
        (["SER", "--on", "2016-05-01"], "vóór het begin van de dialoog"),
        (["SER", "--on", "2016-11-02"], "toekomst"),
        (["S" * 201], "te lang"),
        (["SER\x1b[2J"], "stuurteken"),
        (["SER", "--on", "2016-13-01"], "geen datum"),
    ],
    ids=["non-party", "unknown", "before-dialogue", "future", "overlong", "control", "bad-date"],
)
def test_sign_refusals_write_nothing(imvo: Imvo, args: list[str], message: str) -> None:
    before = imvo.rows()
    refused = imvo("sign", "natuursteen", *args, "--by", "X", code=2)
    assert message in _flat(refused.stderr)
    assert imvo.rows() == before
    assert imvo.scalar("SELECT count(*) FROM signature") == 0


def test_close_a_milestone_and_see_planned_against_actual(imvo: Imvo) -> None:
    target = _milestone(imvo)
    done = imvo("targets", "close", "natuursteen", str(target), "--reached", "--on", "2016-10-04",
                "--by", "X")  # fmt: skip
    assert "mijlpaal 'Oogstdag' bereikt op 2016-10-04" in _flat(done.stdout)
    found = imvo.json("targets", "list", "natuursteen")["targets"]
    closed = next(t for t in found if t["id"] == target)
    assert (closed["status"], closed["closed_on"], closed["days_late"]) == ("met", "2016-10-04", 3)
    assert "3 dagen te laat" in _flat(imvo("targets", "list", "natuursteen").stdout)
    before = imvo.rows()
    again = imvo("targets", "close", "natuursteen", str(target), "--dropped", "--reason", "x",
                 "--by", "X", code=2)  # fmt: skip
    assert "al gesloten" in _flat(again.stderr)
    assert imvo.rows() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dropped"], "reden"),
        ([], "Kies --reached of --dropped"),
        (["--reached", "--dropped"], "Kies --reached of --dropped"),
        (["--reached", "--on", "2016-11-02"], "toekomst"),
        (["--dropped", "--reason", "x" * 2001], "te lang"),
    ],
    ids=["dropped-no-reason", "neither", "both", "future", "overlong"],
)
def test_close_refusals_write_nothing(imvo: Imvo, args: list[str], message: str) -> None:
    target = _milestone(imvo)
    before = imvo.rows()
    refused = imvo("targets", "close", "natuursteen", str(target), *args, "--by", "X", code=2)
    assert message in _flat(refused.stderr)
    assert imvo.rows() == before


def test_close_refuses_an_unknown_milestone_and_a_stage_target(imvo: Imvo) -> None:
    stage = next(
        t["id"] for t in imvo.json("targets", "list", "natuursteen")["targets"] if t["stage"]
    )
    refused = imvo("targets", "close", "natuursteen", str(stage), "--reached", "--by", "X", code=2)
    assert "geen mijlpaal" in _flat(refused.stderr)
    unknown = imvo("targets", "close", "natuursteen", "99999", "--reached", "--by", "X", code=2)
    assert "Onbekende mijlpaal" in _flat(unknown.stderr)


def test_move_with_signatories_and_milestones_then_correct_it(imvo: Imvo) -> None:
    kept, left = _milestone(imvo), _milestone(imvo, "Plan van aanpak")
    garbage = imvo("move", "natuursteen", "ondertekend", "--by", "X", "--reason", "r",
                   "--milestone", "oogst=ja", code=2)  # fmt: skip
    assert "ID=bereikt" in _flat(garbage.stderr)
    imvo("move", "natuursteen", "ondertekend", "--by", "X", "--reason", "getekend", "--on",
         "2016-10-01", "--signatory", "SER", "--milestone", f"{kept}=bereikt:2016-09-30")  # fmt: skip
    found = {t["id"]: t for t in imvo.json("targets", "list", "natuursteen")["targets"]}
    assert (found[kept]["status"], found[kept]["days_late"]) == ("met", -1)
    assert found[left]["close_reason"] == "vervallen: convenant Ondertekend"
    history = imvo.json("history", "natuursteen")
    move_seq = next(h["seq"] for h in history if h["trigger"] == "ondertekenen")
    imvo("audit", "correct", "natuursteen", str(move_seq), "--by", "X", "--reason", "typfout",
         "--on", "2016-09-30")  # fmt: skip
    text = _flat(imvo("history", "natuursteen").stdout)
    fix = imvo.json("history", "natuursteen")[-1]
    assert f"gecorrigeerd in rij {fix['seq']}" in text
    assert fix["description"] == (
        f"Correctie van rij {move_seq} (Dialoog → Ondertekend): datum 2016-10-01 → 2016-09-30"
    )
    imvo("audit", "verify")
