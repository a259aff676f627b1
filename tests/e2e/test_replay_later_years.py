"""The years after the 2016 report, entered as a coordinator would, then read back per day.

The history below follows what was reported publicly after the 2016 annex, to the month; where
the day was not published the first of the month (or the day named in the issue) stands in,
and the six NGOs that left the food-products talks in 2017 are one organisation here (the
source names none of them). In order of entry, each on the day it was entered (IMVO_NOW):

- 2016-11: FME decides to start the stakeholder dialogue (Technologische industrie's
  "eind oktober" milestone reached on 31 October).
- 2017-06: the gold covenant (Convenant Verantwoorde Goudketen) is signed on 20 June by its
  parties in one step, with a first term of three years.
- 2017-06: the NGOs leave the food-products talks with their reason.
- 2018-01: a process that did not exist in 2016 opens: the metal and electrical engineering
  covenant (Metalektro), in dialogue, with its parties; the metallurgy and technology
  processes continue in it (their open milestones are dropped with the step).
- 2019-07: Metalektro is signed.
- 2020-06: the gold covenant is renewed for a second term, linked to the first.
Progress notes are written along the way. Then the as-of views must tell each day's story
from the history: `show --as-of`, `status --as-of`, `deadlines --as-of`, `parties list`, and
`audit verify` must still prove it all.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from test_cli import Imvo

BY = ("--by", "coördinator")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "imvo.db"
    imvo = Imvo(f"sqlite:///{path}")
    imvo("db", "upgrade")
    imvo("seed")
    return path


@pytest.fixture(scope="module")
def replayed(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Imvo:
    path = tmp_path_factory.mktemp("replayed") / "imvo.db"
    shutil.copy(template, path)
    imvo = Imvo(f"sqlite:///{path}")

    def on(day: str, *args: str) -> Any:
        return imvo.json(*args, *BY, IMVO_NOW=day)

    tech = _target(imvo, "technologische-industrie", "Besluit FME")
    on("2016-11-02", "targets", "close", "technologische-industrie", str(tech), "--reached",
       "--on", "2016-10-31")  # fmt: skip
    on("2016-11-02", "move", "technologische-industrie", "dialoog", "--on", "2016-11-01",
       "--reason", "FME gaat de stakeholderdialoog aan")  # fmt: skip

    on("2017-06-21", "sign", "goud", "FGZ", "FNV", "Solidaridad", "Ministerie van Buitenlandse Zaken",
       "--on", "2017-06-20", "--reason", "Convenant Verantwoorde Goudketen getekend")  # fmt: skip
    on("2017-06-21", "terms", "set", "goud", "--until", "2020-06-19")
    on("2017-06-21", "notes", "add", "goud", "Het goudconvenant is op 20 juni 2017 ondertekend.",
       "--on", "2017-06-20")  # fmt: skip

    on("2017-06-02", "organisations", "add", "NGO-coalitie voedingsmiddelen", "--kind", "ngo")
    on("2017-06-02", "parties", "add", "voedingsmiddelen", "NGO-coalitie voedingsmiddelen",
       "--role", "partij", "--since", "2016-09-01")  # fmt: skip
    on("2017-07-01", "parties", "leave", "voedingsmiddelen", "NGO-coalitie voedingsmiddelen",
       "--on", "2017-06-01", "--reason", "De zes NGO's stappen uit de onderhandelingen")  # fmt: skip

    on("2018-01-15", "open", "IMVO-convenant Metalektro", "--slug", "metalektro",
       "--new-sector", "Metaal en elektrotechniek", "--group", "risicosector",
       "--stage", "dialoog", "--on", "2018-01-01")  # fmt: skip
    for org, role in (("FME-CWM", "trekker"), ("FNV", "partij"), ("SER", "facilitator")):
        on("2018-01-15", "parties", "add", "metalektro", org, "--role", role,
           "--since", "2018-01-01")  # fmt: skip
    for branch in ("metallurgische-industrie", "technologische-industrie"):
        on("2018-01-15", "continue", branch, "metalektro", "--on", "2018-01-01",
           "--reason", "Opgegaan in het brede metalektro-convenant")  # fmt: skip
    on("2019-07-04", "sign", "metalektro", "FME-CWM", "FNV", "--on", "2019-07-03",
       "--reason", "Metalektro-convenant ondertekend")  # fmt: skip

    on("2020-06-10", "terms", "renew", "goud", "--until", "2022-06-30",
       "--reason", "Verlengd tot medio 2022")  # fmt: skip
    return imvo


def _target(imvo: Imvo, covenant: str, starts: str) -> int:
    found = imvo.json("targets", "list", covenant)["targets"]
    return next(t["id"] for t in found if (t["milestone"] or "").startswith(starts))


def _show(imvo: Imvo, covenant: str, day: str) -> Any:
    return imvo.json("show", covenant, "--as-of", day, IMVO_NOW="2021-01-01")


def test_the_whole_replay_is_provable(replayed: Imvo) -> None:
    assert "de geschiedenis is onaangetast" in replayed("audit", "verify").stdout


def test_goud_on_each_day(replayed: Imvo) -> None:
    before = _show(replayed, "goud", "2017-01-01")
    assert (before["stage"], before["signatures"], before["terms"]) == ("dialoog", [], [])
    assert any(t["overdue"] for t in before["targets"]) is False  # "februari" not due yet
    late = _show(replayed, "goud", "2017-03-01")
    assert [t["phrase"] for t in late["targets"] if t["overdue"]] == ["februari"]

    signed = _show(replayed, "goud", "2017-07-01")
    assert (signed["stage"], signed["since"]) == ("ondertekend", "2017-06-20")
    assert sorted(s["organisation"] for s in signed["signatures"]) == [
        "FGZ",
        "FNV",
        "Ministerie van Buitenlandse Zaken",
        "Solidaridad",
    ]
    assert signed["note"]["text"].startswith("Het goudconvenant is op 20 juni 2017")
    (met,) = [t for t in signed["targets"] if t["stage"] == "ondertekend"]
    assert (met["status"], met["closed_on"], met["days_late"]) == ("met", "2017-06-20", 112)
    assert [(t["number"], t["current"]) for t in signed["terms"]] == [(1, True)]

    renewed = _show(replayed, "goud", "2021-01-01")
    assert [(t["number"], t["current"]) for t in renewed["terms"]] == [(1, False), (2, True)]
    assert not any(t["overdue"] for t in renewed["targets"])  # the first term's end was met


def test_the_food_talks_lose_their_ngos(replayed: Imvo) -> None:
    name = "NGO-coalitie voedingsmiddelen"
    end_2016 = _show(replayed, "voedingsmiddelen", "2016-12-31")["parties"]
    assert name in [p["name"] for p in end_2016["current"]]
    end_2017 = _show(replayed, "voedingsmiddelen", "2017-12-31")["parties"]
    assert name not in [p["name"] for p in end_2017["current"]]
    assert [(p["name"], p["until"]) for p in end_2017["past"]] == [(name, "2017-06-01")]
    assert "verschillende NGO's" in end_2017["unnamed"][0]  # the source's unnamed ones stay


def test_branches_continue_in_the_process_that_started_in_2018(replayed: Imvo) -> None:
    in_2017 = {r["slug"]: r for r in replayed.json("status", "--as-of", "2017-12-31")}
    assert "metalektro" not in in_2017
    assert in_2017["metallurgische-industrie"]["stage"] == "kwartiermaker"
    in_2018 = {r["slug"]: r for r in replayed.json("status", "--as-of", "2018-06-30")}
    assert in_2018["metalektro"]["stage"] == "dialoog"
    for branch in ("metallurgische-industrie", "technologische-industrie"):
        assert in_2018[branch]["stage"] == "opgegaan"
        then = _show(replayed, branch, "2018-06-30")
        assert then["continued_in"]["into"] == "metalektro"
        # nothing of a continued process stays open, let alone overdue
        assert all(t["status"] != "open" for t in then["targets"])
    milestones = {
        t["milestone"]: t for t in _show(replayed, "technologische-industrie", "2018-06-30")["targets"]
        if t["milestone"]
    }  # fmt: skip
    (fme,) = [t for name, t in milestones.items() if name.startswith("Besluit FME")]
    assert (fme["status"], fme["closed_on"], fme["days_late"]) == ("met", "2016-10-31", 0)
    signed = _show(replayed, "metalektro", "2019-12-31")
    assert (signed["stage"], signed["since"]) == ("ondertekend", "2019-07-03")
    assert sorted(p["name"] for p in signed["parties"]["current"]) == ["FME-CWM", "FNV", "SER"]


def test_deadlines_on_a_past_day_come_from_the_history(replayed: Imvo) -> None:
    march = replayed.json("deadlines", "--as-of", "2017-03-01", IMVO_NOW="2021-01-01")
    overdue = {(r["covenant"], r["phrase"]) for r in march if r["overdue"]}
    assert ("goud", "februari") in overdue
    july = replayed.json("deadlines", "--as-of", "2017-07-01", IMVO_NOW="2021-01-01")
    assert ("goud", "februari") not in {(r["covenant"], r["phrase"]) for r in july}
