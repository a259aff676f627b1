"""Moves per second of `services.moves.move()` against the best known Python peer, on SQLite and PostgreSQL.

The peer is django-fsm-2 with django-fsm-log on Django (bench/requirements-peer.txt; `make
bench` installs it into the project venv, it is no dependency of imvo-workflow). Django is
configured in this process on the very same scratch databases as the engine: its own table set
(auth, contenttypes, django-fsm-log's StateLog and a `peer_bench_peercovenant` model made with
the schema editor) next to ours in the same SQLite file and the same PostgreSQL database.

One move, per side, is one transaction:

- peer (idiomatic django-fsm): `transaction.atomic()`; `Model.objects.select_for_update()
  .get(pk=...)` (FOR UPDATE on PostgreSQL; on SQLite Django drops it and the transaction is
  `BEGIN IMMEDIATE`, as the engine's); the @transition method, decorated with @fsm_log_by and
  @fsm_log_description, checks the source state in memory, sends pre/post_transition, and
  django-fsm-log INSERTs a StateLog row (source, target, transition, by = a loaded auth User,
  description = the reason, timestamp, content type); `obj.save()` UPDATEs the row. Three
  statements, no guard against a lost update other than the row lock.
- engine (`move()` on a UnitOfWork with keep_connection=True): reads the covenant, checks the
  move with the shared Machine and the transition's requirements (here: a reason), checks the
  date, computes the history row's SHA-256 chained to the previous one, UPDATEs the covenant
  guarded by its version, INSERTs the history row, and UPDATEs the targets the move meets or
  cancels. Four statements and more work: the engine must still be faster (budget: > 1).

Both sides walk their own covenants (same number) round-robin through the same cycle,
verkenning -> afgezien -> verkenning -> kwartiermaker -> afgezien -> ...; the peer's graph is
checked to be the engine's at start. Within a round the sides take turns in chunks (the first
side alternating), after a warm-up lap; the best of K rounds counts. At the end both must have
made the same moves (same final stages, one log row per move).

Connection settings match the engine's: SQLite WAL with synchronous=NORMAL and foreign keys
on, PostgreSQL through psycopg 3; Django keeps its connection (CONN_MAX_AGE plays no part
outside requests) and DEBUG is off, so no query log grows.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from _common import (
    STAGES,
    default_postgres_url,
    load_script,
    scratch_postgres,
    scratch_sqlite,
    verdict,
)
from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition

bench = load_script("move_floor")  # Workload, setup, run_engine: the engine side as measured there

BUDGET = 1.0  # engine / peer, strictly above
APP = "peer_bench"


class CurrentDatabase:
    """Django router: every read and write goes to the alias being measured."""

    alias = "sqlite"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return self.alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self.alias

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True


ROUTER = CurrentDatabase()


def django_database(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for a scratch database's SQLAlchemy URL, tuned as make_engine."""
    if url.startswith("sqlite"):
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": url.split("///", 1)[1],
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",  # the engine's BEGIN IMMEDIATE
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
    u = make_url(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": u.database,
        "USER": u.username or "",
        "PASSWORD": u.password or "",
        "HOST": u.host or "",
        "PORT": str(u.port or ""),
    }


def configure_django(urls: dict[str, str]) -> None:
    """settings.configure with one alias per scratch database, then migrate Django's apps there."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        TIME_ZONE="UTC",
        SECRET_KEY="bench-only",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",  # StateLog.by is a ForeignKey to auth.User
            "django_fsm_log",
        ],
        DATABASES={"default": {}, **{db: django_database(url) for db, url in urls.items()}},
        DATABASE_ROUTERS=[ROUTER],
    )
    django.setup()
    for alias in urls:
        ROUTER.alias = alias
        call_command("migrate", database=alias, verbosity=0, interactive=False)


def define_model() -> Any:
    """The peer's covenant: an FSMField and the graph of data/stages.yaml as @transition methods."""
    from django.db import models
    from django_fsm import FSMField, transition
    from django_fsm_log.decorators import fsm_log_by, fsm_log_description

    active = ["verkenning", "kwartiermaker", "dialoog", "intentieverklaring"]

    class PeerCovenant(models.Model):
        slug = models.CharField(max_length=100, unique=True)
        title = models.CharField(max_length=200)
        state = FSMField(default="verkenning")

        class Meta:
            app_label = APP

        @fsm_log_by
        @fsm_log_description
        @transition(field=state, source="verkenning", target="kwartiermaker")
        def kwartiermaker_starten(self, by: Any = None, description: str | None = None) -> None:
            pass

        @fsm_log_by
        @fsm_log_description
        @transition(
            field=state,
            source=["verkenning", "kwartiermaker", "intentieverklaring"],
            target="dialoog",
        )
        def dialoog_starten(self, by: Any = None, description: str | None = None) -> None:
            pass

        @fsm_log_by
        @fsm_log_description
        @transition(
            field=state,
            source=["verkenning", "kwartiermaker", "dialoog"],
            target="intentieverklaring",
        )
        def intentieverklaring_tekenen(
            self, by: Any = None, description: str | None = None
        ) -> None:
            pass

        @fsm_log_by
        @fsm_log_description
        @transition(field=state, source=["dialoog", "intentieverklaring"], target="ondertekend")
        def ondertekenen(self, by: Any = None, description: str | None = None) -> None:
            pass

        @fsm_log_by
        @fsm_log_description
        @transition(field=state, source=active, target="afgezien")
        def afzien(self, by: Any = None, description: str | None = None) -> None:
            pass

        @fsm_log_by
        @fsm_log_description
        @transition(field=state, source="afgezien", target="verkenning")
        def heropenen(self, by: Any = None, description: str | None = None) -> None:
            pass

    return PeerCovenant


def check_graph(model: Any, definition: WorkflowDefinition) -> None:
    """Refuse to measure unless the peer allows exactly the engine's moves."""
    field = model._meta.get_field("state")
    peer = {(tr.source, tr.name, tr.target) for tr in field.get_all_transitions(model)}
    ours = {(tr.source, tr.trigger, tr.dest) for tr in definition.transitions}
    if peer != ours:
        raise RuntimeError(
            f"peer graph differs: only peer {peer - ours}, only engine {ours - peer}"
        )


def setup_peer(model: Any, alias: str, count: int) -> tuple[Any, list[int]]:
    """The acting user and `count` peer covenants in the initial stage, on `alias`."""
    from django.contrib.auth.models import User
    from django.db import connections

    ROUTER.alias = alias
    with connections[alias].schema_editor() as editor:
        editor.create_model(model)
    user = User.objects.create(username="bench")
    model.objects.bulk_create(
        model(slug=f"peer-{i}", title=f"Peer {i}", state="verkenning") for i in range(count)
    )
    ids = sorted(model.objects.values_list("pk", flat=True))
    with connections[alias].cursor() as cursor:  # fresh statistics for both table sets
        cursor.execute("ANALYZE")
    return user, ids


def run_peer(model: Any, alias: str, user: Any, plan: list[Any]) -> list[int]:
    """The peer's moves, one transaction each, as a Django view would do them."""
    from django.db import transaction

    clock, times = time.perf_counter_ns, []
    for pk, _dest, trigger, _cancels in plan:
        start = clock()
        with transaction.atomic(using=alias):
            obj = model.objects.select_for_update().get(pk=pk)
            getattr(obj, trigger)(by=user, description=bench.REASON)
            obj.save()
        times.append(clock() - start)
    return times


def history_rows(engine: Engine, ids: list[int]) -> int:
    where = ", ".join(map(str, ids))
    with engine.connect() as conn:
        sql = f"SELECT count(*) FROM transition WHERE covenant_id IN ({where})"
        return int(conn.execute(text(sql)).scalar_one())


def stages(engine: Engine, ids: list[int]) -> Counter[str]:
    where = ", ".join(map(str, ids))
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT stage FROM covenant WHERE id IN ({where})"))
        return Counter(stage for (stage,) in rows)


def measure(
    db: str, url: str, model: Any, definition: WorkflowDefinition, args: argparse.Namespace
) -> dict[str, float]:
    """Best moves/s of each side on one database."""
    from django_fsm_log.models import StateLog

    engine = make_engine(url)
    engine_ids, _floor_ids = bench.setup(engine, definition, args.covenants)
    user, peer_ids = setup_peer(model, db, args.covenants)
    logged_before = history_rows(engine, engine_ids)
    uow = UnitOfWork(engine, keep_connection=True)
    work = {
        "engine": bench.Workload(engine_ids, definition),
        "peer": bench.Workload(peer_ids, definition),
    }
    sides: dict[str, Callable[[list[Any]], list[int]]] = {
        "engine": lambda plan: bench.run_engine(uow, definition, plan),
        "peer": lambda plan: run_peer(model, db, user, plan),
    }
    best = dict.fromkeys(sides, 0.0)
    for name in sides:  # warm up caches, prepared statements, the content type and the WAL
        sides[name](work[name].plan(args.covenants * len(bench.CYCLE)))
    for _ in range(args.rounds):
        spent = dict.fromkeys(sides, 0.0)
        for turn, done in enumerate(range(0, args.moves, bench.CHUNK)):
            for name in sorted(sides, reverse=bool(turn % 2)):
                plan = work[name].plan(min(bench.CHUNK, args.moves - done))
                start = time.perf_counter()
                sides[name](plan)
                spent[name] += time.perf_counter() - start
        for name, seconds in spent.items():
            best[name] = max(best[name], args.moves / seconds)
    uow.close()
    engine_moves = history_rows(engine, engine_ids) - logged_before
    peer_moves = StateLog.objects.filter(object_id__in=peer_ids).count()
    peer_stages = Counter(model.objects.values_list("state", flat=True))
    engine_stages = stages(engine, engine_ids)
    engine.dispose()
    if not engine_moves == peer_moves == work["engine"].done == work["peer"].done:
        raise RuntimeError(f"moves differ: engine {engine_moves}, peer {peer_moves} logged")
    if engine_stages != peer_stages:
        raise RuntimeError("the peer's covenants did not end in the engine's stages")
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--moves", type=int, default=3000, help="moves per side per round")
    parser.add_argument("--rounds", type=int, default=3, help="best of K alternating rounds")
    parser.add_argument("--covenants", type=int, default=200, help="covenants per side")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    definition = load_definition(STAGES)
    passed: list[str] = []
    missed: list[str] = []
    with ExitStack() as stack:  # Django is configured once, so every database exists first
        urls = {"sqlite": stack.enter_context(scratch_sqlite())}
        if not args.skip_postgres:
            try:
                urls["postgresql"] = stack.enter_context(scratch_postgres(args.postgres_url))
            except psycopg.OperationalError as exc:
                missed.append(
                    f"PostgreSQL at {args.postgres_url} failed ({str(exc).splitlines()[0]}); see --skip-postgres"
                )
        configure_django(urls)
        model = define_model()
        check_graph(model, definition)
        for db, url in urls.items():
            rates = measure(db, url, model, definition, args)
            ratio = rates["engine"] / rates["peer"]
            print(f"move_rate_peer_{db}: {rates['peer']:.0f} moves/s")
            print(f"move_rate_engine_{db}: {rates['engine']:.0f} moves/s")
            print(f"move_vs_peer_{db}: {ratio:.2f} (budget: > {BUDGET:g})")
            ok = ratio > BUDGET
            (passed if ok else missed).append(f"{db} {ratio:.2f} {'>' if ok else '<='} {BUDGET:g}")
        from django.db import connections

        connections.close_all()  # before the scratch PostgreSQL database is dropped
    return verdict(passed, missed)


if __name__ == "__main__":
    sys.exit(main())
