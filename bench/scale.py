"""10,000 covenants: the board, the API's pages and `imvo status --json` at size.

A scratch database (SQLite, and PostgreSQL unless --skip-postgres) gets N synthetic covenants
in M sectors with K targets each and Y years of history (bench/synthetic.py; default 10,000 in
200 sectors, about 40,000 targets). The real app runs as deployed (`imvo serve`, bench/web.py)
and a coordinator:
- GETs the board R times on one keep-alive connection, turning through the plain board, each
  sector group, "alleen te laat", a text search and a column's "meer laden" (GET /bord/meer):
  p95 < 150 ms, client included;
- pages through GET /api/v1/covenants (limit 100, following X-Next-Cursor) until the end:
  p95 per page < 50 ms; every covenant exactly once;
- runs `imvo status --json` in this process (Typer's runner, output captured) against the floor:
  the same rows read with the bare driver (sqlite3 / psycopg: the covenant list and each one's
  next open target) and `json.dumps`; within 2x, best of three each, and the two JSON documents
  must be equal. The command as a subprocess is printed too (its start-up is issue 14 point 4).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
from typer.testing import CliRunner

from _common import (
    NOW,
    STAGES,
    bare_connection,
    default_postgres_url,
    load_script,
    on_both_databases,
)
from imvo_workflow.bootstrap import bootstrap
from imvo_workflow.cli.app import cli
from imvo_workflow.services.auth import create_api_token, hash_password
from imvo_workflow.services.users import add_user
from imvo_workflow.settings import Settings
from synthetic import generate

BOARD_P95_MS, PAGE_P95_MS, STATUS_RATIO = 150.0, 50.0, 2.0
USER, PASSWORD = "bench", "bench-wachtwoord"
COVENANTS = """SELECT c.id, c.slug, c.title, s.name, s."group", p.slug, c.stage, c.stage_since,
 c.version, n.slug, n.title FROM covenant c JOIN sector s ON s.id = c.sector_id
 LEFT JOIN covenant p ON p.id = c.parent_id LEFT JOIN covenant n ON n.id = c.continued_in_id
 ORDER BY c.position, c.id"""
NEXT_TARGETS = """SELECT covenant_id, id, stage, milestone, description, phrase, reference_date,
 period_start, deadline, status, closed_on, close_reason FROM (SELECT *, row_number() OVER
 (PARTITION BY covenant_id ORDER BY deadline, id) AS rank FROM target WHERE status = 'open')
 AS ranked WHERE rank = 1"""
TARGET_KEYS = ("id", "stage", "milestone", "description", "phrase", "reference_date",
               "period_start", "deadline", "status", "closed_on")  # fmt: skip


def floor_json(url: str) -> str:
    """`imvo status --json`'s document, made with the bare driver and json.dumps."""
    conn = bare_connection(url)
    today = NOW.date().isoformat()
    try:
        iso = (lambda v: v) if url.startswith("sqlite") else (lambda v: v and v.isoformat())
        upcoming = {}
        for r in conn.execute(NEXT_TARGETS).fetchall():
            deadline = iso(r[8])
            target = dict(zip(TARGET_KEYS, (r[1], r[2], r[3], r[4], r[5], iso(r[6]), iso(r[7]),
                                            deadline, r[9], iso(r[10])), strict=True))  # fmt: skip
            target.update(overdue=r[9] == "open" and deadline < today, days_late=None,
                          close_reason=r[11])  # fmt: skip
            upcoming[r[0]] = target
        rows = []
        for r in conn.execute(COVENANTS).fetchall():
            target = upcoming.get(r[0])
            continued = r[9] is not None  # a current stage that continued is final
            rows.append({"slug": r[1], "title": r[2], "sector": r[3], "group": r[4],
                         "parent": r[5], "stage": r[6], "since": iso(r[7]), "version": r[8],
                         "next_target": target, "overdue": bool(target and target["overdue"]),
                         "continued_in": r[9] if continued else None,
                         "continued_in_title": r[10] if continued else None})  # fmt: skip
        return json.dumps(rows, ensure_ascii=False)
    finally:
        conn.close()


def best(run: Any, times: int = 3) -> tuple[float, Any]:
    found, result = float("inf"), None
    for _ in range(times):
        start = time.perf_counter()
        result = run()
        found = min(found, time.perf_counter() - start)
    return found, result


def board_latencies(base: str, requests: int, search: str) -> list[float]:
    """Log in, then turn through the board's variants; milliseconds per request."""
    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.status_code
        data = {"csrf_token": token[1], "name": USER, "password": PASSWORD, "next": "/"}
        assert client.post("/login", data=data).status_code == 303
        first = client.get("/")
        more = re.search(r'hx-get="(/bord/meer\?[^"]+)"', first.text)
        variants = [("/", {}), ("/", {"groep": "risicosector"}), ("/", {"te_laat": "1"}),
                    ("/", {"zoek": search}), ("/", {"groep": "overige", "te_laat": "1"})]  # fmt: skip
        if more:
            variants.append((more[1].replace("&amp;", "&"), {}))
        times = []
        for i in range(requests + 10):
            path, params = variants[i % len(variants)]
            start = time.perf_counter()
            page = client.get(path, params=params or None)
            if i >= 10:  # the first ten warm up
                times.append((time.perf_counter() - start) * 1000)
            if page.status_code != 200 or 'class="card"' not in page.text:
                raise RuntimeError(
                    f"GET {path} {params}: {page.status_code}, no cards: {page.text[-300:]}"
                )
    return times


def api_pages(base: str, token: str, expected: int) -> list[float]:
    """Every page of GET /api/v1/covenants?limit=100, in order; milliseconds per page."""
    seen: set[str] = set()
    times, cursor = [], None
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            start = time.perf_counter()
            answer = c.get("/api/v1/covenants", params=params)
            times.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"GET /api/v1/covenants: {answer.status_code} {answer.text}")
            seen.update(row["slug"] for row in answer.json())
            cursor = answer.headers.get("X-Next-Cursor")
            if cursor is None:
                break
    if len(seen) != expected:
        raise RuntimeError(f"the pages held {len(seen)} covenants, not {expected}")
    return times


def measure(url: str, args: argparse.Namespace, suffix: str) -> tuple[list[str], list[str]]:
    made = generate(url, covenants=args.covenants, sectors=args.sectors, targets=args.targets,
                    years=args.years)  # fmt: skip
    print(f"generated{suffix}: {made.rows['covenant']} covenants, {made.rows['target']} targets, "
          f"{made.rows['transition']} history rows in {made.seconds:.0f} s")  # fmt: skip
    settings = Settings(database_url=url, stages_file=STAGES, now=NOW,
                        secret_key=secrets.token_urlsafe(32))  # fmt: skip
    app = bootstrap(settings)
    user_id = add_user(uow=app.uow(), name=USER, role="coordinator",
                       password_hash=hash_password(PASSWORD), now=NOW)  # fmt: skip
    token = create_api_token(uow=app.uow(), user_id=user_id, name="bench", now=NOW)
    app.close()
    env = {"IMVO_DATABASE_URL": url, "IMVO_STAGES_FILE": str(STAGES), "IMVO_NOW": NOW.isoformat()}
    runner = CliRunner(env=env)

    def command() -> str:
        done = runner.invoke(cli, ["status", "--json"])
        if done.exit_code != 0:
            raise RuntimeError(f"imvo status --json: exit {done.exit_code}: {done.output[-500:]}")
        return done.stdout

    ours, document = best(command)
    floor, expected = best(lambda: floor_json(url))
    if json.loads(document) != json.loads(expected):
        raise RuntimeError("imvo status --json and the floor's JSON differ")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imvo_workflow", "status", "--json"], check=True,
                   env={**os.environ, **env}, stdout=subprocess.DEVNULL)  # fmt: skip
    whole = time.perf_counter() - started
    web = load_script("web")
    with web.serving(settings) as (base, _pid):
        board = board_latencies(base, args.requests, "leefbaar")
        pages = api_pages(base, token, made.rows["covenant"])
    board_p95, page_p95 = (statistics.quantiles(x, n=100)[94] for x in (board, pages))
    ratio = ours / floor
    print(f"scale_board_p50_ms{suffix}: {statistics.median(board):.1f}")
    print(f"scale_board_p95_ms{suffix}: {board_p95:.1f} (budget: < {BOARD_P95_MS:.0f})")
    print(f"api_page_p50_ms{suffix}: {statistics.median(pages):.1f} ({len(pages)} pages of 100)")
    print(f"api_page_p95_ms{suffix}: {page_p95:.1f} (budget: < {PAGE_P95_MS:.0f})")
    print(f"status_json_s{suffix}: {ours:.3f} (in process; floor {floor:.3f} s)")
    print(f"status_json_subprocess_s{suffix}: {whole:.2f} (start-up included)")
    print(f"status_json_vs_driver{suffix}: {ratio:.2f} (budget: <= {STATUS_RATIO})")
    checks = {
        f"board p95{suffix} {board_p95:.0f} ms < {BOARD_P95_MS:.0f}": board_p95 < BOARD_P95_MS,
        f"api page p95{suffix} {page_p95:.0f} ms < {PAGE_P95_MS:.0f}": page_p95 < PAGE_P95_MS,
        f"status --json{suffix} {ratio:.2f} <= {STATUS_RATIO}": ratio <= STATUS_RATIO,
    }
    return [c for c, ok in checks.items() if ok], [f"not {c}" for c, ok in checks.items() if not ok]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--covenants", type=int, default=10_000)
    parser.add_argument("--sectors", type=int, default=200)
    parser.add_argument("--targets", type=int, default=4, help="targets per covenant")
    parser.add_argument("--years", type=int, default=2, help="years of history")
    parser.add_argument("--requests", type=int, default=200, help="board requests measured")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    args = parser.parse_args(argv)
    return on_both_databases(
        lambda url, suffix: measure(url, args, suffix),
        postgres_url=None if args.skip_postgres else args.postgres_url,
    )


if __name__ == "__main__":
    sys.exit(main())
