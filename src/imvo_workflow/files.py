"""Files only their owner may read: the session key, SQLite databases, backups, checkpoints.

Each is created with mode 0600 in the one `os.open` call that makes it, so there is no moment
in which another user of the machine could open it (a `chmod` afterwards leaves that moment).
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE = 0o600


def create_private(path: Path) -> bool:
    """Create `path` empty with mode 0600 if it does not exist; True when this call made it.

    O_EXCL: when another process makes it at the same moment, theirs stands and this returns
    False (whoever reads it next gets their content, never a half-made mix).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private_once(path: Path, text: str) -> bool:
    """Write `text` to a new file `path` (mode 0600 from the start); False if it existed.

    The content is written to a private temporary file first and then linked under its name,
    so a process that finds `path` always reads all of it, never an empty or partial file.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.link(tmp, path)  # atomic, and refuses an existing name (unlike rename)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def append_private(path: Path, text: str) -> None:
    """Append `text` to `path`, creating it with mode 0600 if it is new."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(text)
