"""Fill a migrated database with synthetic covenants that have years of believable history.

The scale benches (bench/scale.py: 10,000 covenants in 200 sectors; a report bench: 1,000
covenants with ten years of history) need data that looks like a coordinator's: covenants
spread over the stages, parties joining and leaving (and an organisation renamed now and
then), targets set, slipped, met and dropped, progress notes, summaries, signatures and terms,
every one of them an entry in the covenant's hash chain. Writing that through the services
takes minutes per thousand covenants; here each covenant's life is simulated in Python
(bench/synthetic_story.py, which hashes with domain/chain.py as services/history.py does) and
the rows go in with bulk inserts, so `imvo audit verify` passes on the result.

    from synthetic import generate          # a bench script (bench/ is its folder)
    from bench.synthetic import generate    # from the repository's root
    made = generate(url, covenants=1000, sectors=50, targets=4, years=10)

Deterministic for a given `seed`. Only imvo_workflow is imported, so it loads either way.
Run as a script it fills the database at --url (already migrated: `imvo db upgrade`).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))  # synthetic_story, also as bench.*
from imvo_workflow.db import tables as t
from imvo_workflow.db.session import make_engine
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.settings import DEFAULT_STAGES_FILE
from synthetic_story import NEXT, NOTES, SLIP_REASONS, Ids, Rows, Story, phrase_for

#: The benches' "today" (bench/_common.NOW): nothing is dated after it.
UNTIL = date(2016, 11, 1)
#: Tables in insertion order (parents first); those with ids handed out by the generator.
ORDER = ("covenant", "participation", "term", "target", "target_change", "signature", "note",
         "transition")  # fmt: skip
NAMED_IDS = ("sector", "organisation", "covenant", "participation", "term", "target",
             "signature", "note")  # fmt: skip
BATCH = 500  # covenants per transaction
THEMES = ("kinderarbeid", "leefbaar loon", "klimaat", "dierenwelzijn", "grondstoffen",
          "water", "landrechten", "veiligheid", "biodiversiteit", "vakbondsvrijheid")  # fmt: skip
WORDS = ("Natuursteen", "Textiel", "Goud", "Hout", "Cacao", "Voedingsmiddelen", "Metaal",
         "Chemie", "Bouw", "Energie", "Tuinbouw", "Visserij", "Papier", "Elektronica",
         "Pensioenen", "Verzekeringen", "Banken", "Toerisme", "Scheepvaart", "Zuivel")  # fmt: skip
KINDS = ("ngo", "vakbond", "kennisinstelling", "overheid")
MILESTONES = ("Risicoanalyse afgerond", "Plan van aanpak vastgesteld", "Achterban geraadpleegd",
              "Eerste monitoringsrapport", "Klachtenmechanisme ingericht")  # fmt: skip
ACTORS = ("anna", "bram", "charlotte", "daan", "eva", "floor", "gijs", "hanna")


@dataclass(frozen=True, slots=True)
class Generated:
    """What was written: rows per table, and how long it took."""

    rows: dict[str, int]
    seconds: float


def generate(
    url: str,
    *,
    covenants: int,
    sectors: int,
    targets: int = 4,
    years: int = 2,
    seed: int = 14,
    until: date = UNTIL,
    definition: WorkflowDefinition | None = None,
) -> Generated:
    """Add `covenants` covenants in `sectors` new sectors to the migrated database at `url`,
    each opened in the last `years` years (before `until`) with about `targets` targets."""
    started = time.perf_counter()
    definition = definition or load_definition(DEFAULT_STAGES_FILE)
    rng = random.Random(seed)
    engine = make_engine(url)
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            ids = Ids({name: _max_id(conn, name) for name in NAMED_IDS})
            tag = ids.next["covenant"]  # slugs stay unique when run twice on one database
            sector_rows, orgs, names, renames = _cast(rng, ids, sectors, years, until, tag)
            for table, rows in (("sector", sector_rows), ("organisation", orgs),
                                ("organisation_name", names)):  # fmt: skip
                _insert(conn, table, rows, counts)
        pool = [o["id"] for o in orgs[sectors:]]
        current = {o["id"]: o["name"] for o in orgs}

        def name_on(org_id: int, day: date) -> str:
            for changed_on, old, _ in renames.get(org_id, ()):
                if day < changed_on:
                    return old
            return current[org_id]

        first = until - timedelta(days=365 * years)
        for batch in range(0, covenants, BATCH):
            rows = Rows()
            for i in range(batch, min(covenants, batch + BATCH)):
                sector = sector_rows[i % sectors]
                start = first + timedelta(days=rng.randint(0, max(0, (until - first).days - 14)))
                row = {
                    "id": ids.take("covenant"), "slug": f"{sector['slug']}-c{tag}-{i}",
                    "sector_id": sector["id"], "parent_id": None, "continued_in_id": None,
                    "title": f"{sector['name']}: {THEMES[i % len(THEMES)]} ({i})",
                    "summary": "", "notes": [], "stage": definition.initial,
                    "stage_since": start, "version": 0, "definition_version": definition.version,
                    "last_seq": 0, "head_hash": "", "position": ids.next["covenant"],
                }  # fmt: skip
                story = Story(definition, rows, ids, rng, row, name_on, ACTORS)
                _live(story, start, until, targets, orgs[i % sectors]["id"], pool, renames)
                rows.add("covenant", row)
            with engine.begin() as conn:
                for table in ORDER:
                    _insert(conn, table, rows.tables.get(table, []), counts)
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                for table in NAMED_IDS:  # ids were given: move each sequence past them
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    ))  # fmt: skip
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return Generated(counts, time.perf_counter() - started)


def _max_id(conn: Connection, table: str) -> int:
    found = conn.execute(select(func.max(getattr(t, table).c.id))).scalar()
    return int(found or 0)


def _insert(
    conn: Connection, table: str, rows: list[dict[str, Any]], counts: dict[str, int]
) -> None:
    if rows:
        conn.execute(insert(getattr(t, table)), rows)
        counts[table] = counts.get(table, 0) + len(rows)


def _cast(
    rng: random.Random, ids: Ids, sectors: int, years: int, until: date, tag: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[int, list[Any]]]:
    """Sectors (each with its branch association first among the organisations), a pool of
    other organisations, their name rows, and which of them get renamed when."""
    sector_rows, orgs = [], []
    for i in range(sectors):
        name = f"{WORDS[i % len(WORDS)]} {i // len(WORDS) + 1}"
        sector_rows.append({
            "id": ids.take("sector"), "slug": f"syn{tag}-sector-{i}", "name": name,
            "group": "risicosector" if i % 5 < 3 else "overige", "parent_id": None, "position": i,
        })  # fmt: skip
        orgs.append({"id": ids.take("organisation"), "name": f"Branchevereniging {name} ({tag})",
                     "full_name": None, "kind": "brancheorganisatie"})  # fmt: skip
    for i in range(max(12, sectors // 2)):
        kind = KINDS[i % len(KINDS)]
        orgs.append({"id": ids.take("organisation"), "name": f"{kind.title()} {i} ({tag})",
                     "full_name": None, "kind": kind})  # fmt: skip
    first = until - timedelta(days=365 * years)
    renames: dict[int, list[Any]] = {}
    names = []
    chosen = {o["id"] for o in rng.sample(orgs, max(1, len(orgs) // 20))}  # renamed once
    for org in orgs:
        org_id, name = org["id"], org["name"]
        recorded = datetime.combine(first, datetime.min.time(), AMSTERDAM).astimezone(UTC)
        if org_id in chosen:
            on = first + timedelta(days=rng.randint(30, max(31, (until - first).days - 1)))
            new = f"{name} (nieuwe naam)"
            renames[org_id] = [(on, name, new)]
            moment = datetime.combine(on, datetime.min.time(), AMSTERDAM).astimezone(UTC)
            names.append({"organisation_id": org_id, "name": name, "replaced_at": moment,
                          "actor": "synthetisch", "reason": "", "recorded_at": recorded})  # fmt: skip
            name, recorded = new, moment
            org["name"] = new
        names.append({"organisation_id": org_id, "name": name, "replaced_at": None,
                      "actor": "synthetisch", "reason": "", "recorded_at": recorded})  # fmt: skip
    return sector_rows, orgs, names, renames


def _live(
    story: Story,
    start: date,
    until: date,
    targets: int,
    association: int,
    pool: list[int],
    renames: dict[int, list[Any]],
) -> None:
    """One covenant from its opening to `until`: a step every one to seven months."""
    rng, definition = story.rng, story.definition
    story.open(start)
    story.join(association, "trekker", start, "trekker vanaf de start")
    for org in rng.sample(pool, rng.randint(1, 3)):
        story.join(org, "partij", start)
    story.note(start, f"Start van het convenantproces {story.covenant['title']}.")
    ahead = [s for s in ("kwartiermaker", "dialoog", "ondertekend")
             if s in definition.ahead_of(story.covenant["stage"])]  # fmt: skip
    stages = ahead[: (targets + 1) // 2]
    for n in range(targets):
        days = 120 + 150 * n + rng.randint(0, 90)
        phrase = phrase_for(rng, start, days)
        if n < len(stages):
            story.set_target(start, phrase, stage=stages[n], reason="planning bij de start")
        else:
            milestone = MILESTONES[(n - len(stages)) % len(MILESTONES)]
            story.set_target(start, phrase, milestone=milestone, reason="planning bij de start")
    day, renamed = start, set()
    while True:
        before, day = day, day + timedelta(days=rng.randint(30, 210))
        for org_id, changes in renames.items():  # renames between the last step and this one
            for on, old, new in changes:
                if (
                    before < on <= min(day, until)
                    and (org_id, on) not in renamed
                    and any(p.organisation_id == org_id and p.since <= on for p in story.parties)
                ):
                    renamed.add((org_id, on))
                    story.entry(RecordKind.ORGANISATION_RENAMED, on, reason="nieuwe naam",
                                detail={"organisation_id": org_id, "old_name": old,
                                        "new_name": new})  # fmt: skip
        if day > until:
            return
        _step(story, day, until, pool)


def _step(story: Story, day: date, until: date, pool: list[int]) -> None:
    """One thing a coordinator records on `day`."""
    rng, c = story.rng, story.covenant
    stage = story.definition.stages[c["stage"]]
    if story.terms and story.terms[-1]["ends_on"] < day:  # renew the term that ran out
        begins = story.terms[-1]["ends_on"] + timedelta(days=1)
        story.term(begins, begins + timedelta(days=365 * rng.randint(3, 5)), begins)
        return
    open_targets = [x for x in story.targets if x.open]
    current = [p for p in story.parties if p.until is None]
    roll = rng.random()
    if roll < 0.35 and c["stage"] in NEXT:
        options = NEXT[c["stage"]]
        dest = rng.choices(list(options), weights=list(options.values()))[0]
        reopened = c["stage"] == "afgezien"
        story.move(dest, day)
        if story.definition.stages[dest].terminal:
            story.term(day, day + timedelta(days=365 * rng.randint(3, 5)), day)
        elif reopened:  # afgezien cancelled every target: plan the dialogue again
            story.set_target(day, phrase_for(rng, day, 300), stage="dialoog", reason="heropend")
        return
    if roll < 0.50:
        story.note(day, rng.choice(NOTES))
    elif roll < 0.62 and open_targets and not stage.terminal:
        target = rng.choice(open_targets)
        reference = max(day, target.row["reference_date"])
        story.set_target(reference, phrase_for(rng, reference, rng.randint(90, 365)),
                         target=target, reason=rng.choice(SLIP_REASONS))  # fmt: skip
    elif roll < 0.72 and (milestones := [x for x in open_targets if x.row["milestone"]]):
        outcome = "bereikt" if rng.random() < 0.8 else "vervallen"
        story.close_milestone(rng.choice(milestones), day, outcome,
                              "" if outcome == "bereikt" else "niet meer nodig")  # fmt: skip
    elif roll < 0.82:
        taken = {p.organisation_id for p in current}
        free = [o for o in pool if o not in taken]
        if free:
            story.join(rng.choice(free), rng.choice(("partij", "partij", "betrokken")), day)
    elif roll < 0.88 and len(current) > 2:
        story.leave(rng.choice([p for p in current if p.role != "trekker"]), day)
    elif roll < 0.95:
        story.summary(day, f"Stand per {day.isoformat()}: {stage.label.nl.lower()}.")
    else:
        story.note(day, rng.choice(NOTES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", required=True, help="a migrated database (SQLAlchemy URL)")
    parser.add_argument("--covenants", type=int, default=1000)
    parser.add_argument("--sectors", type=int, default=50)
    parser.add_argument("--targets", type=int, default=4, help="targets per covenant")
    parser.add_argument("--years", type=int, default=2, help="years of history")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    made = generate(
        args.url, covenants=args.covenants, sectors=args.sectors, targets=args.targets,
        years=args.years, seed=args.seed,
    )  # fmt: skip
    for table, count in sorted(made.rows.items()):
        print(f"{table}: {count} rows")
    print(f"generated in {made.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
