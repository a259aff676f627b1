"""`imvo open`, `imvo organisations …` and `imvo parties …` through the real entry point.

One seeded SQLite file per module (as tests/e2e/test_cli.py does), copied for the tests that
write. The clock is pinned with IMVO_NOW; a refusal is exit code 2 with a Dutch message on
stderr, no traceback, and the database file unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_cli import Imvo

LATER = {"IMVO_NOW": "2017-09-01"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parties") / "imvo.db"
    imvo = Imvo(f"sqlite:///{path}")
    imvo("db", "upgrade")
    imvo("seed")
    return path


@pytest.fixture
def imvo(template: Path, tmp_path: Path) -> Imvo:
    path = tmp_path / "imvo.db"
    shutil.copy(template, path)
    return Imvo(f"sqlite:///{path}")


def refused(imvo: Imvo, *args: str, says: str, **env: str) -> None:
    before = imvo.path.read_bytes()
    done = imvo(*args, code=2, **env)
    assert says in done.stderr, done.stderr
    assert done.stderr.startswith("Fout:")
    assert imvo.path.read_bytes() == before


def test_ngos_join_and_leave_and_the_list_shows_them_on_each_day(imvo: Imvo) -> None:
    for name in ("Ngo A", "Ngo B"):
        imvo("organisations", "add", name, "--kind", "ngo", "--by", "anna")
        imvo("parties", "add", "voedingsmiddelen", name, "--role", "partij",
             "--since", "2016-09-01", "--by", "anna")  # fmt: skip
        imvo("parties", "leave", "voedingsmiddelen", name, "--on", "2017-06-01",
             "--reason", "Stapt uit de onderhandelingen", "--by", "anna", **LATER)  # fmt: skip
    end_2016 = imvo.json("parties", "list", "voedingsmiddelen", "--as-of", "2016-12-31")
    assert {"Ngo A", "Ngo B"} <= {p["name"] for p in end_2016["current"]}
    assert end_2016["past"] == []
    end_2017 = imvo.json("parties", "list", "voedingsmiddelen", "--as-of", "2017-12-31")
    assert [(p["name"], p["until"], p["left_reason"]) for p in end_2017["past"]] == [
        ("Ngo A", "2017-06-01", "Stapt uit de onderhandelingen"),
        ("Ngo B", "2017-06-01", "Stapt uit de onderhandelingen"),
    ]
    assert "verschillende NGO's" in end_2017["unnamed"][0]
    shown = imvo("parties", "list", "voedingsmiddelen", "--as-of", "2017-12-31").stdout
    assert "Niet bij naam genoemd" in shown and "Stapt uit" in shown
    show = imvo("show", "voedingsmiddelen", "--as-of", "2016-12-31").stdout
    assert "Ngo A" in show
    assert "de geschiedenis is onaangetast" in imvo("audit", "verify").stdout


def test_open_a_process_and_rename_an_organisation(imvo: Imvo) -> None:
    opened = imvo.json("open", "IMVO-convenant Textiel", "--new-sector", "Textiel", "--group",
                       "risicosector", "--stage", "dialoog", "--on", "2016-03-01", "--by", "anna")  # fmt: skip
    assert (opened["slug"], opened["stage"], opened["version"]) == (
        "imvo-convenant-textiel",
        "dialoog",
        2,
    )
    imvo("open", "Subconvenant Toerisme Kenia", "--parent", "toerisme", "--stage", "verkenning",
         "--on", "2016-10-01", "--by", "anna")  # fmt: skip
    assert "imvo-convenant-textiel" in imvo("status").stdout
    renamed = imvo.json("organisations", "rename", "SER", "Sociaal-Economische Raad",
                        "--reason", "Voluit", "--by", "anna")  # fmt: skip
    assert renamed["old_name"] == "SER" and "natuursteen" in renamed["covenants"]
    listed = {o["name"]: o for o in imvo.json("organisations", "list")}
    assert listed["Sociaal-Economische Raad"]["former_names"] == ["SER"]
    assert "de geschiedenis is onaangetast" in imvo("audit", "verify").stdout


def test_bad_input_is_refused_with_exit_code_2_and_writes_nothing(imvo: Imvo) -> None:
    refused(imvo, "parties", "add", "voedingsmiddelen", "Ngo Z", "--role", "partij", "--since",
            "2016-09-01", "--by", "a", says="Onbekende organisatie")  # fmt: skip
    refused(imvo, "parties", "add", "voedingsmiddelen", "FNLI", "--role", "trekker", "--since",
            "2016-09-01", "--by", "a", says="al trekker")  # fmt: skip
    refused(imvo, "parties", "add", "voedingsmiddelen", "FNV", "--role", "partij", "--since",
            "2016-13-01", "--by", "a", says="geen datum")  # fmt: skip
    refused(imvo, "parties", "add", "voedingsmiddelen", "FNV", "--role", "partij", "--since",
            "2017-01-01", "--by", "a", says="toekomst")  # fmt: skip
    refused(imvo, "parties", "leave", "voedingsmiddelen", "CBL", "--on", "2016-08-01",
            "--reason", "weg", "--by", "a", says="daarvóór")  # fmt: skip
    refused(imvo, "parties", "leave", "voedingsmiddelen", "CBL", "--on", "2016-10-01",
            "--reason", "x" * 2001, "--by", "a", says="te lang")  # fmt: skip
    refused(
        imvo, "organisations", "add", "Ngo\x1b", "--kind", "ngo", "--by", "a", says="stuurteken"
    )
    refused(
        imvo, "organisations", "add", "Nieuw", "--kind", "bedrijf", "--by", "a", says="Kies uit"
    )
    refused(imvo, "open", "Nieuw", "--sector", "chemie", "--stage", "ondertekend", "--on",
            "2016-10-01", "--by", "a", says="startfasen")  # fmt: skip
    refused(imvo, "open", "Nieuw", "--parent", "toerism", "--stage", "verkenning", "--on",
            "2016-10-01", "--by", "a", says="Bedoelde je: toerisme")  # fmt: skip
    refused(imvo, "open", "IMVO-convenant Chemie", "--sector", "chemie", "--stage", "verkenning",
            "--on", "2016-10-01", "--by", "a", says="Er is al een proces")  # fmt: skip
