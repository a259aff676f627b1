"""Running the Alembic migrations from code: the only way tables are made.

The migration scripts ship inside the package (imvo_workflow/migrations), so an installed
`imvo db upgrade` needs neither the checkout nor alembic.ini; the repository's alembic.ini
points at the same folder for `make migration`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from sqlalchemy import Engine

from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.files import create_private
from imvo_workflow.outputs import check_output_path, partial_path

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade to `revision`; one the migrations do not have is refused before the database
    is touched (or made)."""
    config = alembic_config(url)
    known = revision.strip() == "head"
    if not known and revision.strip():
        try:
            known = ScriptDirectory.from_config(config).get_revision(revision) is not None
        except AlembicError:  # unknown, ambiguous, or relative ("-1") revisions
            known = False
    if not known:
        raise InvalidInput(
            f"Onbekende migratie '{revision}'; kies 'head' of een migratie uit `imvo db current`."
        )
    command.upgrade(config, revision)


@cache
def head_revision() -> str | None:
    """The newest migration in the code: read from the migrations folder once per process
    (`/readyz` asks on every probe)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_sqlite(url: str, target: Path) -> int:
    """Online backup of a SQLite database (consistent while others write); returns its pages."""
    import sqlite3

    source_path = url.split("///", 1)[1] if url.startswith("sqlite") and "///" in url else ""
    if not source_path or source_path == ":memory:":
        raise ValueError("alleen een SQLite-bestand kan zo worden geback-upt")
    if not Path(source_path).is_file():  # sqlite3 would make an empty one and back that up
        raise ValueError(f"de database {source_path} bestaat niet")
    check_output_path(target)  # refuses a missing folder or a folder (InvalidInput)
    tmp = partial_path(target)
    tmp.unlink(missing_ok=True)  # a leftover of a killed backup: made anew, 0600 from the start
    create_private(tmp)
    try:
        source = sqlite3.connect(source_path)
        try:
            dest = sqlite3.connect(tmp)
            try:
                source.backup(dest)
                pages = int(dest.execute("PRAGMA page_count").fetchone()[0])
                check = dest.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                dest.close()
        finally:
            source.close()
        if check != "ok":
            raise ValueError(f"de back-up is niet in orde: {check}")
        tmp.replace(target)  # never a half-written backup under the real name
    except BaseException:
        tmp.unlink(missing_ok=True)  # nor a .partial left behind by a refused backup
        raise
    return pages
