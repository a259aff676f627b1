"""Keyset cursors: where the next page of an ordered list starts, as an opaque token.

Lists of covenants (the board's columns, GET /api/v1/covenants) are ordered by
(position, id) and paged by remembering the last key seen, not an offset: a covenant added or
moved while someone pages through the list does not shift the pages, so no row is shown twice
or skipped. The token is that key, base64url-encoded, so clients treat it as opaque and send
it back as it is. Pure: no database or web imports.
"""

from __future__ import annotations

import base64
import binascii

from imvo_workflow.domain.errors import InvalidInput

#: What a refusal says the cursor is: taken from a previous answer, never made by hand.
_HINT = "Gebruik de cursor uit het vorige antwoord (of laat hem weg voor de eerste pagina)."
_MAX_KEY = 2**62


def encode_cursor(position: int, row_id: int) -> str:
    """The token for "after the row with this position and id"."""
    raw = f"{position}.{row_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(token: str) -> tuple[int, int]:
    """(position, id) from a token `encode_cursor` made; InvalidInput for anything else."""
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        position, row_id = (int(part) for part in raw.split("."))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput(f"De cursor '{token[:40]}' is ongeldig. {_HINT}") from None
    if not (-_MAX_KEY < position < _MAX_KEY and 0 <= row_id < _MAX_KEY):
        raise InvalidInput(f"De cursor '{token[:40]}' is ongeldig. {_HINT}")
    return position, row_id
