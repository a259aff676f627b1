"""Finding a covenant by the name a coordinator types, with a suggestion when it is wrong."""

from __future__ import annotations

import difflib
import unicodedata
from typing import NoReturn

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import UnknownSector


def normalise(name: str) -> str:
    """'Land- en tuinbouw' -> 'land-en-tuinbouw'; 'Financiële' -> 'financiele'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = "".join(ch if ch.isalnum() else " " for ch in plain.lower()).split()
    return "-".join(words)


def covenant_id(conn: Connection, name: str) -> int:
    """The id of the covenant called `name` (its slug, or its sector's name)."""
    slug = normalise(name)
    found = conn.execute(select(t.covenant.c.id).where(t.covenant.c.slug == slug)).scalar()
    if found is not None:
        return int(found)
    refuse_unknown(conn, name)


def refuse_unknown(conn: Connection, name: str) -> NoReturn:
    """Refuse a covenant name nobody has, suggesting the closest ones."""
    slugs = list(conn.execute(select(t.covenant.c.slug)).scalars())
    raise UnknownSector(name, difflib.get_close_matches(normalise(name), slugs, n=3, cutoff=0.5))
