"""Every CSV the product writes: cells a spreadsheet cannot run, lines ending in CRLF.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets) evaluates a cell that starts with
`=`, `+`, `-` or `@` as a formula, and tab or carriage return as a way to smuggle one in:
a history reason `=cmd|' /C calc'!A0` would run on the auditor's machine. OWASP's rule
(https://owasp.org/www-community/attacks/CSV_Injection, "Ensure that no cells begin with
any of the following characters: = + - @ Tab (0x09) Carriage return (0x0D)", prefixing a
single quote; ASVS 5.0 requirement 1.2.10 adds NUL) is applied to every cell. A cell that
starts with such a character after leading spaces is prefixed too: some spreadsheets trim
them before deciding. Field separators and quotes inside a cell are quoted by the csv
module (OWASP's second condition), and lines end in CRLF as RFC 4180 (section 2.1) says.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

__all__ = ["FORMULA_STARTS", "spreadsheet_safe", "write_csv"]

#: First characters a spreadsheet would evaluate (OWASP CSV Injection; NUL from ASVS 1.2.10).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def spreadsheet_safe(value: Any) -> Any:
    """`value` as a cell no spreadsheet evaluates: text starting with a formula character
    (possibly after spaces) gets a single quote in front; anything else is left alone."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write a header and `rows` (streamed) as RFC 4180 CSV; returns the number of rows.

    `out` should be opened with newline="" so the CRLF line ends are written as they are.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(name) for name in columns])
    count = 0
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(name, "")) for name in columns])
        count += 1
    return count
