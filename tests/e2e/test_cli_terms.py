"""`imvo continue` and `imvo terms set|renew|list` through the real entry point.

`python -m imvo_workflow` as a subprocess against the seeded 2016 report, the clock pinned
with IMVO_NOW: a continuation shows in `status` and `show` as "Opgegaan in ...", a term and
its renewal are listed, and every refusal is exit code 2 with a Dutch message on stderr, no
traceback, and nothing written. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from cli_runner import Done, run_imvo
from imvo_workflow.db.tables import metadata

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Imvo:
    database_url: str

    def __call__(self, *args: str, code: int = 0, now: str = "2016-11-01") -> Done:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
        env |= {
            "IMVO_DATABASE_URL": self.database_url,
            "IMVO_NOW": now,
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
        }
        env.pop("FORCE_COLOR", None)
        done = run_imvo(args, env)
        shown = f"imvo {' '.join(args)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert done.returncode == code, shown
        assert "Traceback" not in done.stdout + done.stderr, shown
        return done

    def json(self, *args: str, now: str = "2016-11-01") -> Any:
        return json.loads(self(*args, "--json", now=now).stdout)

    def stored(self) -> list[str]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [
                    f"{table.name}: {row}"
                    for table in metadata.sorted_tables
                    for row in sorted(repr(tuple(r)) for r in conn.execute(select(table)))
                ]
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("terms") / "imvo.db"
    imvo = Imvo(f"sqlite:///{path}")
    imvo("db", "upgrade")
    imvo("seed")
    return path


@pytest.fixture(scope="module")
def pg(postgres_url: str) -> Iterator[Imvo]:
    name = f"imvo_terms_{uuid.uuid4().hex[:10]}"
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
def imvo(request: pytest.FixtureRequest, tmp_path: Path) -> Imvo:
    """A fresh copy of the seeded file; on PostgreSQL the module's database (each test below
    writes covenants no other test touches)."""
    if request.param == "postgresql":
        found: Imvo = request.getfixturevalue("pg")
        return found
    path = tmp_path / "imvo.db"
    shutil.copy(request.getfixturevalue("template"), path)
    return Imvo(f"sqlite:///{path}")


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_continue_shows_in_status_show_and_history(imvo: Imvo) -> None:
    done = imvo(
        "continue",
        "Metallurgische industrie",
        "technologische-industrie",
        "--on",
        "2016-11-01",
        "--reason",
        "De brancheafspraken gaan op in het bredere metaalconvenant.",
        "--by",
        "A. de Vries",
    )
    assert "opgegaan in technologische-industrie" in _flat(done.stdout)
    rows = {row["slug"]: row for row in imvo.json("status")}
    assert rows["metallurgische-industrie"]["stage"] == "opgegaan"
    assert rows["metallurgische-industrie"]["continued_in"] == "technologische-industrie"
    shown = _flat(imvo("show", "metallurgische-industrie").stdout)
    assert "Fase: Opgegaan in IMVO-convenant Technologische industrie" in shown
    entries = imvo.json("history", "metallurgische-industrie")
    step = next(i for i, e in enumerate(entries) if e["trigger"] == "opgaan_in")
    # after the step only its milestones, dropped with it (nothing of an ended process stays open)
    assert {e["trigger"] for e in entries[step + 1 :]} <= {"mijlpaal_gesloten"}


def test_a_term_is_set_listed_and_renewed(imvo: Imvo) -> None:
    imvo("move", "natuursteen", "ondertekend", "--by", "A", "--reason", "getekend", "--on",
         "2016-10-14")  # fmt: skip
    done = imvo("terms", "set", "natuursteen", "--until", "2021-10-14", "--by", "A")
    assert "looptijd 1 van 2016-10-14 tot en met 2021-10-14" in _flat(done.stdout)
    renewed = imvo.json(
        "terms", "renew", "natuursteen", "--until", "2024-10-15", "--reason", "Verlengd",
        "--by", "A", now="2021-09-01",
    )  # fmt: skip
    assert renewed["term"]["starts_on"] == "2021-10-15"
    listed = imvo.json("terms", "list", "natuursteen", now="2022-01-03")
    assert [(t["number"], t["ends_on"], t["current"]) for t in listed] == [
        (1, "2021-10-14", False),
        (2, "2024-10-15", True),
    ]
    table = imvo("terms", "list", "natuursteen", now="2022-01-03").stdout
    assert "loopt nu" in table and "2024-10-15" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["continue", "chemie", "chemie", "--on", "2016-11-01", "--reason", "x", "--by", "A"],
         "zichzelf"),
        (["continue", "chemie", "goudd", "--on", "2016-11-01", "--reason", "x", "--by", "A"],
         "Bedoelde je: goud"),
        (["continue", "chemie", "goud", "--on", "2016-11-02", "--reason", "x", "--by", "A"],
         "toekomst"),
        (["continue", "chemie", "goud", "--on", "1-11-2016", "--reason", "x", "--by", "A"],
         "geen datum"),
        (["continue", "chemie", "goud", "--on", "2016-11-01", "--reason", "", "--by", "A"],
         "reden"),
        (["continue", "chemie", "goud", "--on", "2016-11-01", "--reason", "a\x1bb", "--by", "A"],
         "stuurteken"),
        (["continue", "bouw", "goud", "--on", "2016-11-01", "--reason", "x", "--by", "A"],
         "afgezien"),
        (["move", "chemie", "opgegaan", "--reason", "x", "--by", "A"], "imvo continue"),
        (["terms", "set", "chemie", "--until", "2020-01-01", "--by", "A"], "niet ondertekend"),
        (["terms", "set", "chemie", "--until", "2020-02-30", "--by", "A"], "geen datum"),
        (["terms", "set", "chemie", "--until", "2020-01-01", "--by", "A", "--reason", "x" * 2001],
         "te lang"),
        (["terms", "renew", "chemie", "--until", "2020-01-01", "--reason", "x", "--by", "A"],
         "niet ondertekend"),
        (["terms", "list", "onbekend-convenant"], "Onbekende sector"),
    ],
)  # fmt: skip
def test_refusals_are_exit_code_2_with_a_message_and_write_nothing(
    imvo: Imvo, args: list[str], message: str
) -> None:
    before = imvo.stored()
    done = imvo(*args, code=2)
    assert message in _flat(done.stderr)
    assert _flat(done.stderr).startswith("Fout:")
    assert imvo.stored() == before


def test_a_term_that_breaks_the_rules_is_refused(imvo: Imvo) -> None:
    imvo("move", "goud", "ondertekend", "--by", "A", "--reason", "getekend", "--on",
         "2016-10-01")  # fmt: skip
    before = imvo.stored()
    for args, message in [
        (["--until", "2016-10-01"], "eindigen na het begin"),
        (["--until", "2021-10-01", "--from", "2016-09-30"], "vóór de ondertekening"),
    ]:
        done = imvo("terms", "set", "goud", *args, "--by", "A", code=2)
        assert message in _flat(done.stderr)
    assert imvo.stored() == before
    imvo("terms", "set", "goud", "--until", "2021-09-30", "--by", "A")
    before = imvo.stored()
    for args, message in [
        (["--until", "2025-01-01", "--from", "2021-09-30"], "overlapt"),
        (["--until", "2025-01-01", "--from", "2021-10-02"], "sluit niet aan"),
    ]:
        done = imvo("terms", "renew", "goud", *args, "--reason", "x", "--by", "A", code=2)
        assert message in _flat(done.stderr)
    assert imvo.stored() == before
