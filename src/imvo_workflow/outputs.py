"""Writing a file the user named (a report, an export, a backup): checked first, then whole.

A missing folder or a folder given as the file is refused with a message before anything
runs (no folders made on the way), and the file appears under its name only once written in
full: a refused or failed command leaves nothing behind, not even an empty file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from imvo_workflow.domain.errors import InvalidInput


def check_output_path(target: Path) -> None:
    """Refuse a target that is a folder, or whose folder does not exist."""
    if target.is_dir():
        raise InvalidInput(f"{target} is een map; geef een bestandsnaam.")
    if target.parent.exists() and not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is geen map.")
    if not target.parent.is_dir():
        raise InvalidInput(f"De map {target.parent} bestaat niet; maak hem eerst.")


def partial_path(target: Path) -> Path:
    """Where a file is written before it is complete."""
    return target.with_name(target.name + ".partial")


@contextmanager
def output_file(target: Path) -> Iterator[TextIO]:
    """A text file (UTF-8, newlines as written) that appears as `target` only on success."""
    check_output_path(target)
    tmp = partial_path(target)
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"Kan {target} niet schrijven: {exc.strerror}.") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(target: Path, data: bytes) -> None:
    """Write `data` (a binary report: docx) to `target`, appearing only once complete."""
    check_output_path(target)
    tmp = partial_path(target)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"Kan {target} niet schrijven: {exc.strerror}.") from None
