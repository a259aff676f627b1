"""`imvo notes`, `imvo summary` and `imvo deadlines --as-of` through the real entry point.

Subprocesses against a seeded SQLite copy (and the PostgreSQL smoke database of test_cli):
a note is written and listed (the source's text is the first), the summary is set with a
reason and its history shown, deadlines on a past day come from the history; refusals exit
with code 2, a Dutch message and nothing written.
"""

from __future__ import annotations

import pytest
import test_cli
from test_cli import Imvo, _flat, _stored

seeded = test_cli.seeded
imvo = test_cli.imvo
imvo_rw = test_cli.imvo_rw
pg_imvo = test_cli.pg_imvo
imvo_on = test_cli.imvo_on


def test_a_note_is_written_and_listed_newest_first(imvo_on: Imvo) -> None:
    imvo_on(
        "notes",
        "add",
        "goud",
        "Eerste regel\nTweede regel",
        "--by",
        "A. de Vries",
        "--on",
        "2016-10-30",
    )
    listed = imvo_on.json("notes", "list", "goud")
    # the seed's note is dated the report's date, 31 October 2016 (issue 13)
    assert [n["written_on"] for n in listed[:2]] == ["2016-10-31", "2016-10-30"]
    assert listed[0]["author"] == "Voortgangsrapportage 2016"
    assert "Eerste regel\nTweede regel" in {n["text"] for n in listed}
    then = imvo_on.json("notes", "list", "goud", "--as-of", "2016-10-30")
    assert then[0]["text"] == "Eerste regel\nTweede regel"
    assert "(huidig)" in imvo_on("notes", "list", "goud").stdout
    assert imvo_on("audit", "verify").returncode == 0


def test_the_summary_is_set_with_a_reason_and_its_history_kept(imvo_rw: Imvo) -> None:
    imvo_rw(
        "summary", "set", "goud", "Nieuwe samenvatting", "--by", "B. Jansen", "--reason", "overleg"
    )
    (change,) = imvo_rw.json("summary", "history", "goud")
    assert (change["text"], change["reason"], change["actor"]) == (
        "Nieuwe samenvatting",
        "overleg",
        "B. Jansen",
    )
    assert change["old_text"]
    assert "overleg" in imvo_rw("summary", "history", "goud").stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["notes", "add", "goud", "", "--by", "A"], "leeg"),
        (["notes", "add", "goud", "x", "--by", "A", "--on", "2016-11-02"], "na vandaag"),
        (["notes", "add", "goud", "x", "--by", "A", "--on", "2016-02-30"], "geen datum"),
        (["notes", "add", "goud", "x" * 2001, "--by", "A"], "te lang"),
        (["notes", "add", "goud", "bel\x07", "--by", "A"], "stuurteken"),
        (["notes", "add", "goudd", "x", "--by", "A"], "Bedoelde je: goud"),
        (["notes", "list", "goud", "--as-of", "morgen"], "geen datum"),
        (["summary", "set", "goud", "Nieuw", "--by", "A"], "--reason"),
        (["summary", "set", "goud", "", "--by", "A", "--reason", "r"], "leeg"),
        (["targets", "set", "goud", "ondertekend", "20 oktober 2016", "--by", "A"], "--reference"),
        (["targets", "set", "goud", "ondertekend", "ooit", "--by", "A"], "Voorbeelden"),
        (["deadlines", "--as-of", "2016-11-01", "--known-at", "2016-11-01"], "niet allebei"),
        (["deadlines", "--as-of", "1066-10-14"], "1900"),
    ],
    ids=lambda value: value[1] if isinstance(value, list) and len(value) > 1 else None,
)
def test_refusals_exit_2_with_a_message_and_write_nothing(
    imvo_rw: Imvo, args: list[str], words: str
) -> None:
    before = _stored(imvo_rw)
    done = imvo_rw(*args, code=2)
    assert words in _flat(done.stderr)
    assert _stored(imvo_rw) == before


def test_deadlines_as_of_a_day_come_from_the_history(imvo_on: Imvo) -> None:
    before = imvo_on.json("deadlines", "--as-of", "2016-10-15", "--within", "400")
    assert before == []  # the report's targets were set on its date, 31 October
    on_report = imvo_on.json("deadlines", "--as-of", "2016-11-01", "--within", "60")
    today = imvo_on.json("deadlines", "--within", "60")
    assert on_report == today and on_report
    known = imvo_on.json("deadlines", "--known-at", "2016-11-01", "--within", "60")
    assert known == on_report
    late = imvo_on.json("deadlines", "--as-of", "2017-01-15", "--within", "0")
    assert late and all(row["overdue"] for row in late)
    assert "peildatum 2017-01-15" in _flat(imvo_on("deadlines", "--as-of", "2017-01-15").stdout)
