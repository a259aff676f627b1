"""The history can be proven: append-only by trigger, tampering named, two clocks answered.

Every test starts from the seeded 2016 report (plus a few moves) on SQLite and PostgreSQL.
Tampering is done the way an attacker with database access would: switch the append-only
triggers off first (SQLite: drop them; PostgreSQL: DISABLE TRIGGER USER inside the tampering
transaction, so the shared test database gets them back), then edit rows with plain SQL and,
where a careful attacker would, repair the covenant's head and the checkpoints too.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError

from helpers import open_in_new_sector
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.chain import ChainEntry, entry_hash
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.domain.errors import InvalidInput, NotFound, RequirementMissing, UnknownSector
from imvo_workflow.domain.record import is_record
from imvo_workflow.domain.replay import replay
from imvo_workflow.services import asof, audit, signatures
from imvo_workflow.services.export import COLUMNS, ExportFilter, export_history
from imvo_workflow.services.lookup import normalise
from imvo_workflow.services.moves import move
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import DEFAULT_STAGES_FILE, Settings
from tampering import tampering

STAGES = DEFAULT_STAGES_FILE
APPEND_ONLY = ("transition", "target_change", "audit_checkpoint")
REFUSED = "alleen worden aangevuld"
#: Moves made on the report date on top of the seed, by someone other than the seed.
MOVES = (("chemie", "kwartiermaker"), ("energie", "kwartiermaker"), ("pensioensector", "dialoog"))
MOVER = "A. de Vries"
#: The columns of a history row that say what happened (not where it sits in the chain).
CONTENT = (
    "from_stage",
    "to_stage",
    "trigger",
    "actor",
    "reason",
    "occurred_on",
    "recorded_at",
    "definition_version",
)


@pytest.fixture
def seeded(app: App) -> App:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    for slug, to in MOVES:
        move(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            to=to,
            actor=MOVER,
            now=app.now(),
        )
    return app


def covenant_id(app: App, slug: str) -> int:
    with app.uow(readonly=True) as uow:
        found: int = uow.conn.execute(
            select(t.covenant.c.id).where(t.covenant.c.slug == slug)
        ).scalar_one()
    return found


def correct_goud(
    app: App, seq: int, occurred_on: date | None, reason: str, actor: str = "X"
) -> int:
    """Correct goud's history row `seq` (created and intentieverklaring on 1 December 2015,
    dialoog on 1 January 2016), to `occurred_on` or as it stands; the new row's seq."""
    return audit.correct(
        uow=app.uow(),
        covenant="goud",
        seq=seq,
        actor=actor,
        reason=reason,
        occurred_on=occurred_on,
        now=app.now(),
    )


def history(app: App, slug: str) -> list[Any]:
    tr = t.transition
    with app.uow(readonly=True) as uow:
        return list(
            uow.conn.execute(
                select(tr).where(tr.c.covenant_id == covenant_id(app, slug)).order_by(tr.c.seq)
            )
        )


def head(app: App, slug: str) -> Any:
    c = t.covenant
    with app.uow(readonly=True) as uow:
        return uow.conn.execute(select(c).where(c.c.slug == slug)).one()


def count(app: App, table: str) -> int:
    with app.uow(readonly=True) as uow:
        found: int = uow.conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    return found


def stages_on(app: App, day: date, *, known_at: bool = False) -> dict[str, str]:
    with app.uow(readonly=True) as uow:
        return {r.slug: r.stage for r in asof.status_on(conn=uow.conn, day=day, known_at=known_at)}


def problems(result: audit.VerifyResult) -> list[tuple[str, int | None]]:
    return [(p.covenant, p.seq) for p in result.problems]


def verify(app: App, checkpoint_file: Path | None = None) -> audit.VerifyResult:
    return audit.verify(uow=app.uow(readonly=True), checkpoint_file=checkpoint_file)


def set_row(conn: Connection, cid: int, seq: int, /, **values: Any) -> None:
    tr = t.transition
    conn.execute(update(tr).where(tr.c.covenant_id == cid, tr.c.seq == seq).values(**values))


def set_head(conn: Connection, cid: int, row: Any) -> None:
    """What a careful attacker does after cutting a chain: point the covenant at `row`."""
    conn.execute(
        update(t.covenant)
        .where(t.covenant.c.id == cid)
        .values(
            last_seq=row.seq,
            head_hash=row.hash,
            stage=row.to_stage,
            stage_since=row.occurred_on,
        )
    )


def cut_goud_tail(app: App) -> int:
    """Delete Goud's rows from its last move on (dialoog, and the seed's party entries after
    it), repair the covenant row to match; the seq of the last row that was deleted."""
    rows = history(app, "goud")
    cid = covenant_id(app, "goud")
    with tampering(app, "transition") as conn:
        conn.execute(
            delete(t.transition).where(t.transition.c.covenant_id == cid, t.transition.c.seq >= 3)
        )
        set_head(conn, cid, rows[1])
    return int(rows[-1].seq)


def rehash(row: dict[str, Any], *, seq: int, prev_hash: str) -> dict[str, Any]:
    """A row's columns as an attacker who knows the hashing would write them at `seq`."""
    fields = {name: row[name] for name in ChainEntry.__dataclass_fields__}
    entry = replace(ChainEntry(**fields), seq=seq, prev_hash=prev_hash)
    return {**{name: getattr(entry, name) for name in fields}, "hash": entry_hash(entry)}


# --- (a) history rows can only be inserted ----------------------------------------------


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_history_tables_refuse_update_and_delete(seeded: App, table: str) -> None:
    audit.checkpoint(uow=seeded.uow(), now=seeded.now())
    edits = {
        "transition": "UPDATE transition SET reason = 'herschreven'",
        "target_change": "UPDATE target_change SET reason = 'herschreven'",
        "audit_checkpoint": "UPDATE audit_checkpoint SET digest = 'herschreven'",
    }
    before = count(seeded, table)
    assert before > 0
    for statement in (edits[table], f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match=REFUSED), seeded.engine.begin() as conn:
            conn.execute(text(statement))
    assert count(seeded, table) == before
    assert verify(seeded).ok


@pytest.mark.postgresql_only
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_history_tables_refuse_truncate_on_postgresql(seeded: App, table: str) -> None:
    audit.checkpoint(uow=seeded.uow(), now=seeded.now())
    before = count(seeded, table)
    with pytest.raises(DatabaseError, match=REFUSED), seeded.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {table}"))
    assert count(seeded, table) == before


def test_appending_still_works_under_the_triggers(seeded: App) -> None:
    before = len(history(seeded, "natuursteen"))
    move(
        uow=seeded.uow(),
        definition=seeded.definition,
        covenant="natuursteen",
        to="ondertekend",
        actor=MOVER,
        reason="Convenant getekend",
        now=seeded.now(),
    )
    assert len(history(seeded, "natuursteen")) == before + 1
    assert verify(seeded).ok


# --- (b) tampering is named ---------------------------------------------------------------


def test_untouched_history_verifies(seeded: App) -> None:
    result = verify(seeded)
    assert result.ok, result.problems
    assert result.covenants == 21
    assert result.rows == count(seeded, "transition") > 21
    assert result.checkpoints == 0
    audit.checkpoint(uow=seeded.uow(), now=seeded.now())
    move(  # chains grow after a checkpoint: that is not tampering
        uow=seeded.uow(),
        definition=seeded.definition,
        covenant="goud",
        to="ondertekend",
        actor=MOVER,
        reason="Goudconvenant getekend",
        now=seeded.now(),
    )
    again = verify(seeded)
    assert again.ok, again.problems
    assert again.checkpoints == 1
    assert again.rows == result.rows + 1


def test_a_changed_field_is_named_by_covenant_and_row(seeded: App) -> None:
    cid = covenant_id(seeded, "goud")
    with tampering(seeded, "transition") as conn:
        set_row(conn, cid, 2, reason="Intentieverklaring nooit getekend")
    result = verify(seeded)
    assert problems(result) == [("goud", 2)]
    assert "gewijzigd" in result.problems[0].message


def test_a_changed_date_is_named(seeded: App) -> None:
    cid = covenant_id(seeded, "natuursteen")
    with tampering(seeded, "transition") as conn:
        set_row(conn, cid, 2, occurred_on=date(2016, 3, 1))
    assert problems(verify(seeded)) == [("natuursteen", 2)]


def test_a_deleted_middle_row_is_named(seeded: App) -> None:
    cid = covenant_id(seeded, "goud")
    with tampering(seeded, "transition") as conn:
        conn.execute(
            delete(t.transition).where(t.transition.c.covenant_id == cid, t.transition.c.seq == 2)
        )
    result = verify(seeded)
    assert problems(result) == [("goud", 3)]
    assert "rij 2 ontbreekt" in result.problems[0].message


def test_a_deleted_middle_row_with_the_rest_renumbered_is_named(seeded: App) -> None:
    rows = history(seeded, "goud")
    cid = covenant_id(seeded, "goud")
    with tampering(seeded, "transition") as conn:
        conn.execute(
            delete(t.transition).where(t.transition.c.covenant_id == cid, t.transition.c.seq == 2)
        )
        set_row(conn, cid, 3, seq=2)
        conn.execute(update(t.covenant).where(t.covenant.c.id == cid).values(last_seq=2))
    assert rows[2].seq == 3
    result = verify(seeded)
    assert problems(result) == [("goud", 2)]
    assert "vorige rij" in result.problems[0].message


def test_a_deleted_last_row_is_named_by_the_covenant_head(seeded: App) -> None:
    cid = covenant_id(seeded, "goud")
    last = history(seeded, "goud")[-1].seq
    with tampering(seeded, "transition") as conn:
        conn.execute(
            delete(t.transition).where(
                t.transition.c.covenant_id == cid, t.transition.c.seq == last
            )
        )
    result = verify(seeded)
    assert problems(result) == [("goud", last)]
    assert "ontbreken" in result.problems[0].message


def test_a_deleted_tail_passes_the_chain_but_not_a_checkpoint(seeded: App) -> None:
    audit.checkpoint(uow=seeded.uow(), now=seeded.now())
    cut = cut_goud_tail(seeded)
    assert head(seeded, "goud").stage == "intentieverklaring"
    result = verify(seeded)
    assert problems(result) == [("goud", cut)]
    assert "checkpoint" in result.problems[0].message


def test_a_deleted_tail_with_the_checkpoints_deleted_is_caught_by_the_file(
    seeded: App, tmp_path: Path
) -> None:
    outside = tmp_path / "checkpoints.jsonl"
    audit.checkpoint(uow=seeded.uow(), now=seeded.now(), file=outside)
    cut = cut_goud_tail(seeded)
    with tampering(seeded, "audit_checkpoint") as conn:
        conn.execute(delete(t.audit_checkpoint))
    assert verify(seeded).ok  # the database alone no longer knows
    result = verify(seeded, outside)
    assert problems(result) == [("goud", cut)]
    assert result.checkpoints == 1


def test_a_deleted_tail_with_the_checkpoints_rewritten_is_caught_by_the_file(
    seeded: App, tmp_path: Path
) -> None:
    outside = tmp_path / "checkpoints.jsonl"
    audit.checkpoint(uow=seeded.uow(), now=seeded.now(), file=outside)
    cut = cut_goud_tail(seeded)
    kept = history(seeded, "goud")[-1]
    cid = covenant_id(seeded, "goud")
    with tampering(seeded, "audit_checkpoint") as conn:
        for cp in conn.execute(select(t.audit_checkpoint)).all():
            heads = {**cp.heads, str(cid): [kept.seq, kept.hash]}
            conn.execute(
                update(t.audit_checkpoint)
                .where(t.audit_checkpoint.c.id == cp.id)
                .values(heads=heads, digest=audit.heads_digest(heads))
            )
    assert verify(seeded).ok  # a consistent forgery inside the database
    assert problems(verify(seeded, outside)) == [("goud", cut)]


def test_a_checkpoint_edited_without_its_digest_is_named(seeded: App) -> None:
    audit.checkpoint(uow=seeded.uow(), now=seeded.now())
    with tampering(seeded, "audit_checkpoint") as conn:
        conn.execute(update(t.audit_checkpoint).values(heads={}))
    result = verify(seeded)
    assert problems(result) == [("checkpoint", None)]


def test_an_inserted_row_is_named(seeded: App) -> None:
    rows = history(seeded, "goud")
    cid = covenant_id(seeded, "goud")
    forged = {
        **{name: getattr(rows[0], name) for name in ChainEntry.__dataclass_fields__},
        "seq": 2,
        "from_stage": "verkenning",
        "to_stage": "kwartiermaker",
        "trigger": "kwartiermaker_starten",
        "reason": "ingevoegd",
        "prev_hash": rows[0].hash,
    }
    forged["hash"] = entry_hash(ChainEntry(**forged))
    with tampering(seeded, "transition") as conn:
        for row in reversed(rows[1:]):  # one at a time: (covenant, seq) stays unique
            set_row(conn, cid, row.seq, seq=row.seq + 1)
        conn.execute(insert(t.transition), [forged])
        conn.execute(
            update(t.covenant).where(t.covenant.c.id == cid).values(last_seq=rows[-1].seq + 1)
        )
    result = verify(seeded)
    assert problems(result) == [("goud", 3)]  # the first row that no longer fits
    assert "ingevoegd" in result.problems[0].message


def test_an_inserted_row_with_the_whole_chain_rehashed_is_caught_by_a_checkpoint(
    seeded: App,
) -> None:
    """An attacker who knows the hashing rewrites the whole chain: only a checkpoint knows."""
    audit.checkpoint(uow=seeded.uow(), now=seeded.now())
    rows = [dict(r._mapping) for r in history(seeded, "goud")]
    cid = covenant_id(seeded, "goud")
    forged = {**rows[0], "from_stage": "verkenning", "to_stage": "kwartiermaker"}
    forged["trigger"] = "kwartiermaker_starten"
    with tampering(seeded, "transition") as conn:
        conn.execute(delete(t.transition).where(t.transition.c.covenant_id == cid))
        previous = rows[0]["prev_hash"]
        for seq, row in enumerate([rows[0], forged, *rows[1:]], 1):
            values = rehash(row, seq=seq, prev_hash=previous)
            conn.execute(insert(t.transition), [values])
            previous = values["hash"]
        conn.execute(
            update(t.covenant)
            .where(t.covenant.c.id == cid)
            .values(last_seq=len(rows) + 1, head_hash=previous)
        )
    result = verify(seeded)
    assert problems(result) == [("goud", len(rows))]  # the checkpoint's head row
    assert "checkpoint" in result.problems[0].message


@pytest.mark.parametrize("with_hashes", [True, False], ids=["rows-moved", "content-swapped"])
def test_two_swapped_rows_are_named(seeded: App, with_hashes: bool) -> None:
    rows = history(seeded, "goud")
    cid = covenant_id(seeded, "goud")
    columns = (*CONTENT, "prev_hash", "hash") if with_hashes else CONTENT
    second, third = rows[1], rows[2]
    with tampering(seeded, "transition") as conn:
        set_row(conn, cid, 2, **{c: getattr(third, c) for c in columns})
        set_row(conn, cid, 3, **{c: getattr(second, c) for c in columns})
    assert history(seeded, "goud")[1].to_stage == "dialoog"
    assert problems(verify(seeded)) == [("goud", 2)]


#: A covenant with one history row, so a row moved into it lands at its free seq 2 (every
#: seeded one has party entries after its opening): opened by the test that needs it.
LONE = "alleen"
#: Every column of a history row but its id and its own hash, a value to write into goud's
#: row 2 (intentieverklaring, between row 1 and row 3) and the rows verify must name then.
TAMPERED: dict[str, tuple[Any, list[tuple[str, int]]]] = {
    "covenant_id": (LONE, [("goud", 3), (LONE, 2)]),  # moved out: a gap here, a stray there
    "seq": (99, [("goud", 3)]),  # renumbered away: row 2 is missing
    "from_stage": ("afgezien", [("goud", 2)]),
    "to_stage": ("afgezien", [("goud", 2)]),
    "trigger": ("afzien", [("goud", 2)]),
    "actor": ("Mallory", [("goud", 2)]),
    "reason": ("herschreven", [("goud", 2)]),
    "occurred_on": (date(2015, 12, 2), [("goud", 2)]),
    "recorded_at": (timedelta(seconds=1), [("goud", 2)]),  # added to the stored moment
    "definition_version": ("vervalst", [("goud", 2)]),
    "prev_hash": ("f" * 64, [("goud", 2)]),
    "corrects_seq": (1, [("goud", 2)]),
    "detail": ('{"organisation":"Mallory"}', [("goud", 2)]),  # a move given a record's detail
}


def test_the_tamper_table_covers_every_column_of_a_history_row() -> None:
    assert set(TAMPERED) == {c.name for c in t.transition.columns} - {"id", "hash"}
    assert set(CONTENT) < set(TAMPERED)


def _tampered_value(seeded: App, column: str, row: Any) -> Any:
    value = TAMPERED[column][0]
    if column == "covenant_id":
        return open_in_new_sector(seeded, LONE)
    if column == "recorded_at":
        return row.recorded_at + value
    assert value != getattr(row, column)
    return value


@pytest.mark.parametrize("column", list(TAMPERED))
def test_every_column_of_a_history_row_is_protected(seeded: App, column: str) -> None:
    row = history(seeded, "goud")[1]
    assert row.seq == 2
    cid = covenant_id(seeded, "goud")
    value = _tampered_value(seeded, column, row)  # (opens LONE: before the tampering starts)
    with tampering(seeded, "transition") as conn:
        set_row(conn, cid, 2, **{column: value})
    assert problems(verify(seeded)) == TAMPERED[column][1]


@pytest.mark.parametrize("column", [*CONTENT, "corrects_seq"])
def test_a_rewritten_row_with_its_hash_recomputed_is_named_by_the_next_row(
    seeded: App, column: str
) -> None:
    """An attacker who knows the hashing rewrites row 2 and gives it a fitting hash: row 2
    then holds on its own, and the link from row 3 (its prev_hash) is what breaks."""
    rows = history(seeded, "goud")
    cid = covenant_id(seeded, "goud")
    changed = {**rows[1]._mapping, column: _tampered_value(seeded, column, rows[1])}
    forged = rehash(changed, seq=2, prev_hash=changed["prev_hash"])
    assert forged["hash"] != rows[1].hash
    with tampering(seeded, "transition") as conn:
        set_row(conn, cid, 2, **forged)
    result = verify(seeded)
    assert problems(result) == [("goud", 3)]
    assert "vorige rij" in result.problems[0].message


def test_a_rewritten_last_row_with_its_hash_recomputed_is_named_by_the_covenant_head(
    seeded: App,
) -> None:
    rows = history(seeded, "goud")
    cid = covenant_id(seeded, "goud")
    changed = {**rows[-1]._mapping, "actor": "Mallory"}
    forged = rehash(changed, seq=rows[-1].seq, prev_hash=rows[-1].prev_hash)
    with tampering(seeded, "transition") as conn:
        set_row(conn, cid, rows[-1].seq, **forged)
    result = verify(seeded)
    assert problems(result) == [("goud", rows[-1].seq)]
    assert "het convenant verwijst" in result.problems[0].message


def test_a_checkpoint_reaches_the_auditors(seeded: App, tmp_path: Path) -> None:
    u, sub = t.user, t.subscription
    with seeded.uow() as uow:
        for name, role, address in (
            ("Auditor", "viewer", "audit@example.org"),
            ("Coordinator", "coordinator", "coord@example.org"),
        ):
            user_id = uow.conn.execute(
                insert(u).returning(u.c.id),
                {"name": name, "email": address, "role": role, "created_at": seeded.now()},
            ).scalar_one()
            uow.conn.execute(
                insert(sub), {"user_id": user_id, "channel": "email", "address": address}
            )
        uow.commit()
    outside = tmp_path / "checkpoints.jsonl"
    made = audit.checkpoint(uow=seeded.uow(), now=seeded.now(), file=outside)
    assert made.covenants == 21
    assert made.rows == count(seeded, "transition")
    line = json.loads(outside.read_text(encoding="utf-8"))
    assert line["digest"] == made.digest == audit.heads_digest(line["heads"])
    with seeded.uow(readonly=True) as uow:
        alert = uow.conn.execute(select(t.alert).where(t.alert.c.kind == "checkpoint")).one()
        recipients = list(
            uow.conn.execute(
                select(t.delivery.c.recipient).where(t.delivery.c.alert_id == alert.id)
            ).scalars()
        )
    assert any(made.digest in line for line in alert.lines)
    assert recipients == ["audit@example.org"]


# --- (c) corrections --------------------------------------------------------------------


def test_a_correction_is_a_new_row_and_changes_what_as_of_answers(seeded: App) -> None:
    before = history(seeded, "goud")
    covenant_before = head(seeded, "goud")
    assert [(r.seq, r.to_stage, r.occurred_on) for r in before if not is_record(r.trigger)] == [
        (1, "verkenning", date(2015, 10, 1)),  # "eind 2015": its first day (issue 13)
        (2, "intentieverklaring", date(2015, 10, 1)),
        (3, "dialoog", date(2016, 1, 1)),
    ]
    assert stages_on(seeded, date(2015, 12, 10))["goud"] == "intentieverklaring"

    new_seq = correct_goud(
        seeded, 2, date(2015, 12, 15), "datum was 15 december", actor="C. Bakker"
    )

    after = history(seeded, "goud")
    assert new_seq == len(before) + 1
    assert after[: len(before)] == before  # nothing rewritten
    fix = after[len(before)]
    assert (fix.seq, fix.corrects_seq, fix.trigger) == (new_seq, 2, audit.CORRECTION_TRIGGER)
    assert (fix.occurred_on, fix.reason, fix.actor) == (
        date(2015, 12, 15),
        "datum was 15 december",
        "C. Bakker",
    )
    assert fix.prev_hash == before[-1].hash
    covenant = head(seeded, "goud")
    assert (covenant.stage, covenant.stage_since) == (
        covenant_before.stage,
        covenant_before.stage_since,
    )
    assert replay(after, seeded.definition) == covenant.stage == "dialoog"
    assert verify(seeded).ok
    assert stages_on(seeded, date(2015, 12, 10))["goud"] == "verkenning"
    assert stages_on(seeded, date(2015, 12, 20))["goud"] == "intentieverklaring"
    assert stages_on(seeded, date(2016, 1, 1))["goud"] == "dialoog"


def test_correcting_the_last_move_moves_the_stage_since(seeded: App) -> None:
    correct_goud(seeded, 3, date(2016, 2, 1), "dialoog begon in februari", actor="C. Bakker")
    assert head(seeded, "goud").stage_since == date(2016, 2, 1)
    assert stages_on(seeded, date(2016, 1, 15))["goud"] == "intentieverklaring"
    assert verify(seeded).ok


def test_a_correction_needs_a_reason_and_an_existing_move(seeded: App) -> None:
    with pytest.raises(RequirementMissing, match="reden"):
        correct_goud(seeded, 2, None, "  ")
    with pytest.raises(NotFound):
        correct_goud(seeded, 99, None, "typo")
    fix = correct_goud(seeded, 2, None, "typo")
    with pytest.raises(NotFound):
        correct_goud(seeded, fix, None, "typo")  # a correction is not corrected; the original is
    with pytest.raises(InvalidInput, match="latere stap"):
        correct_goud(seeded, 2, date(2016, 6, 1), "te laat")


def test_a_correction_cannot_date_a_move_in_the_future(seeded: App) -> None:
    """A move refuses a future date; a correction of the last move must too."""
    with pytest.raises(InvalidInput, match="toekomst"):
        correct_goud(seeded, 3, date(2017, 1, 1), "verkeerde datum")


def test_a_correction_cannot_date_a_move_before_the_move_it_follows(seeded: App) -> None:
    """Goud's dialoog (row 3) cannot have begun before its intentieverklaring (row 2)."""
    with pytest.raises(InvalidInput):
        correct_goud(seeded, 3, date(2015, 9, 1), "verkeerde datum")


def test_a_correction_cannot_date_a_move_after_the_next_move(seeded: App) -> None:
    """Goud's creation (row 1) cannot move past its intentieverklaring (row 2, 1 October)."""
    with pytest.raises(InvalidInput, match="latere stap"):
        correct_goud(seeded, 1, date(2015, 12, 15), "verkenning begon half december")


def test_a_correction_respects_the_corrected_date_of_a_later_move(seeded: App) -> None:
    """Row 3 corrected to 20 December: row 2 can then no longer be moved past it."""
    correct_goud(seeded, 3, date(2015, 12, 20), "dialoog begon al in december")
    with pytest.raises(InvalidInput, match="latere stap"):
        correct_goud(seeded, 2, date(2015, 12, 25), "intentieverklaring pas op 25 december")


# --- (d) as of a date, and known at a date ------------------------------------------------


def later_app(app: App, when: datetime, definition: WorkflowDefinition | None = None) -> App:
    """The same database with the clock (and maybe the definition) of another day."""
    settings = Settings(database_url=app.settings.database_url, stages_file=STAGES, now=when)
    return App(settings=settings, definition=definition or app.definition)


def test_as_of_and_known_at_with_a_backdated_move(seeded: App) -> None:
    december = later_app(seeded, datetime(2016, 12, 15, 11, 0, tzinfo=AMSTERDAM))
    try:
        move(
            uow=december.uow(),
            definition=december.definition,
            covenant="houtsector",
            to="ondertekend",
            actor=MOVER,
            reason="Convenant Bevorderen Duurzaam Bosbeheer getekend",
            occurred_on=date(2016, 11, 20),
            now=december.now(),
        )
    finally:
        december.close()
    assert stages_on(seeded, date(2016, 11, 19))["houtsector"] == "dialoog"
    assert stages_on(seeded, date(2016, 11, 25))["houtsector"] == "ondertekend"
    assert stages_on(seeded, date(2016, 11, 25), known_at=True)["houtsector"] == "dialoog"
    assert stages_on(seeded, date(2016, 12, 20), known_at=True)["houtsector"] == "ondertekend"


def test_known_at_shows_the_targets_as_they_were_known(seeded: App) -> None:
    """On 25 November nobody knew houtsector had signed: its target was still open."""
    december = later_app(seeded, datetime(2016, 12, 15, 11, 0, tzinfo=AMSTERDAM))
    try:
        move(
            uow=december.uow(),
            definition=december.definition,
            covenant="houtsector",
            to="ondertekend",
            actor=MOVER,
            reason="getekend",
            occurred_on=date(2016, 11, 20),
            now=december.now(),
        )
    finally:
        december.close()
    with seeded.uow(readonly=True) as uow:
        rows = asof.status_on(conn=uow.conn, day=date(2016, 11, 25), known_at=True)
        now_rows = asof.status_on(conn=uow.conn, day=date(2016, 11, 25))
    known = {r.slug: r for r in rows}["houtsector"]
    assert {r.slug: r for r in now_rows}["houtsector"].next_target is None  # met, as we now know
    assert known.stage == "dialoog"
    assert known.next_target is not None
    assert (known.next_target.phrase, known.next_target.status) == ("nog in 2016", "open")


def test_as_of_uses_occurred_on_and_known_at_uses_recorded_at(seeded: App) -> None:
    assert stages_on(seeded, date(2015, 12, 31)) == {
        "goud": "intentieverklaring",
        "verzekeringssector": "verkenning",
    }
    assert stages_on(seeded, date(2015, 9, 30)) == {}
    # everything was entered on 1 November 2016: on 30 June nothing was known yet
    assert stages_on(seeded, date(2016, 6, 30), known_at=True) == {}
    assert "goud" in stages_on(seeded, date(2016, 6, 30))
    known = stages_on(seeded, date(2016, 11, 1), known_at=True)
    assert len(known) == 21
    assert known["goud"] == "dialoog"
    assert known["chemie"] == "kwartiermaker"  # moved later that same day


# --- (e) signatures -----------------------------------------------------------------------


@pytest.fixture
def two_signatures(tmp_path: Path) -> WorkflowDefinition:
    """stages.yaml with `min_signatures: 2` on ondertekenen."""
    source = STAGES.read_text(encoding="utf-8")
    needle = "    dest: ondertekend\n    label: {nl: Convenant ondertekenen, en: Sign covenant}\n    requires: {reason: true}\n"
    assert needle in source
    path = tmp_path / "stages.yaml"
    path.write_text(
        source.replace(
            needle, needle.replace("{reason: true}", "{reason: true, min_signatures: 2}")
        ),
        encoding="utf-8",
    )
    definition = load_definition(path)
    assert definition.resolve("dialoog", "ondertekend").requires.min_signatures == 2
    return definition


def test_signing_requires_enough_signatures(
    seeded: App, two_signatures: WorkflowDefinition
) -> None:
    """The signatories come with the move, and count towards its min_signatures."""

    def sign_off(*signatories: str, add_as_party: bool = False) -> Any:
        return move(
            uow=seeded.uow(),
            definition=two_signatures,
            covenant="natuursteen",
            to="ondertekend",
            actor=MOVER,
            reason="Convenant getekend",
            occurred_on=date(2016, 10, 1),
            signatories=signatories,
            add_as_party=add_as_party,
            now=seeded.now(),
        )

    with pytest.raises(RequirementMissing, match=r"minstens 2 .* er 0 vastgelegd"):
        sign_off()
    with pytest.raises(RequirementMissing, match=r"minstens 2 .* er 1 vastgelegd"):
        sign_off("SER")
    with pytest.raises(InvalidInput, match="geen partij"):
        sign_off("SER", "FNV")  # FNV takes no part in natuursteen
    assert head(seeded, "natuursteen").stage == "dialoog"
    assert count(seeded, "signature") == 0
    assert sign_off("SER", "FNV", add_as_party=True).to_stage == "ondertekend"
    with seeded.uow(readonly=True) as uow:
        signed = signatures.signatures(conn=uow.conn, covenant="natuursteen")
    assert [(s.organisation, s.signed_on) for s in signed] == [
        ("FNV", date(2016, 10, 1)),
        ("SER", date(2016, 10, 1)),
    ]


def test_signing_refuses_unknown_organisations_and_future_dates(seeded: App) -> None:
    def sign(organisation: str, on: date) -> Any:
        return signatures.sign(
            uow=seeded.uow(),
            definition=seeded.definition,
            covenant="natuursteen",
            organisations=(organisation,),
            signed_on=on,
            actor=MOVER,
            now=seeded.now(),
        )

    with pytest.raises(NotFound) as unknown:
        sign("Solidaridat", date(2016, 10, 1))
    assert "Solidaridad" in unknown.value.suggestions
    assert "Bedoelde je" in unknown.value.message
    with pytest.raises(InvalidInput, match="toekomst"):
        sign("SER", date(2016, 11, 2))
    assert count(seeded, "signature") == 0


# --- (f) export ---------------------------------------------------------------------------


def export(app: App, fmt: str, where: ExportFilter = ExportFilter()) -> tuple[int, str]:
    out = io.StringIO()
    written = export_history(uow=app.uow(readonly=True), out=out, fmt=fmt, where=where)
    return written, out.getvalue()


def expected_rows(app: App, *conditions: Any) -> int:
    tr, c, s = t.transition, t.covenant, t.sector
    with app.uow(readonly=True) as uow:
        found: int = uow.conn.execute(
            select(func.count())
            .select_from(tr.join(c, c.c.id == tr.c.covenant_id).join(s, s.c.id == c.c.sector_id))
            .where(*conditions)
        ).scalar_one()
    return found


@pytest.mark.parametrize(
    ("where", "condition"),
    [
        (ExportFilter(), t.transition.c.id.is_not(None)),
        (ExportFilter(sector="goud"), t.sector.c.slug == "goud"),
        (ExportFilter(sector="Land- en tuinbouw"), t.sector.c.slug == "land-en-tuinbouw"),
        (ExportFilter(actor=MOVER), t.transition.c.actor == MOVER),
        (
            ExportFilter(since=date(2016, 9, 1), until=date(2016, 10, 31)),
            t.transition.c.occurred_on.between(date(2016, 9, 1), date(2016, 10, 31)),
        ),
        (ExportFilter(until=date(2015, 12, 31)), t.transition.c.occurred_on <= date(2015, 12, 31)),
    ],
    ids=["all", "sector", "sector-by-name", "actor", "from-to", "to"],
)
def test_export_csv_and_json_match_the_filter(
    seeded: App, where: ExportFilter, condition: Any
) -> None:
    expected = expected_rows(seeded, condition)
    assert expected > 0
    written, text_csv = export(seeded, "csv", where)
    rows = list(csv.DictReader(io.StringIO(text_csv)))
    assert written == len(rows) == expected
    assert tuple(rows[0]) == COLUMNS
    written_json, text_json = export(seeded, "json", where)
    items = json.loads(text_json)
    assert isinstance(items, list)
    assert written_json == len(items) == expected
    assert [(r["covenant"], int(r["seq"])) for r in rows] == [
        (i["covenant"], i["seq"]) for i in items
    ]
    if where.sector:
        assert {i["sector"] for i in items} == {normalise(where.sector)}
    if where.actor:
        assert {i["actor"] for i in items} == {where.actor}
    if where.since:
        assert min(i["occurred_on"] for i in items) >= where.since.isoformat()
    if where.until:
        assert max(i["occurred_on"] for i in items) <= where.until.isoformat()


def test_export_of_goud_is_its_history(seeded: App) -> None:
    _, text_json = export(seeded, "json", ExportFilter(sector="goud"))
    items = json.loads(text_json)
    stored = history(seeded, "goud")
    assert [(i["covenant"], i["seq"], i["to_stage"], i["hash"]) for i in items] == [
        ("goud", r.seq, r.to_stage, r.hash) for r in stored
    ]
    assert items[1]["occurred_on"] == "2015-10-01"
    assert datetime.fromisoformat(items[1]["recorded_at"]) == seeded.now()


def test_export_of_nothing_is_still_valid(seeded: App) -> None:
    written, text_json = export(seeded, "json", ExportFilter(actor="niemand"))
    assert written == 0
    assert json.loads(text_json) == []
    _, text_csv = export(seeded, "csv", ExportFilter(actor="niemand"))
    assert text_csv.splitlines() == [",".join(COLUMNS)]


def test_export_refuses_a_bad_format_or_range(seeded: App) -> None:
    with pytest.raises(InvalidInput, match="formaat"):
        export(seeded, "xml")
    with pytest.raises(InvalidInput, match="--from"):
        export(seeded, "csv", ExportFilter(since=date(2016, 2, 1), until=date(2016, 1, 1)))


def test_export_names_an_unknown_sector(seeded: App) -> None:
    """A typo must not give an auditor an empty, valid-looking history."""
    with pytest.raises(UnknownSector) as unknown:
        export(seeded, "csv", ExportFilter(sector="goudd"))
    assert "goud" in unknown.value.suggestions
