"""Conditional requests as RFC 9110 §13 says: entity tags, `If-Match` and `If-None-Match`.

The API's covenant ETag is its version (`"3"`); a move states the version it read in
`If-Match`, compared strongly (a weak tag `W/"3"` never matches, §13.1.1), `*` matching any
current covenant. A header that is not a list of entity tags is the caller's mistake (400),
never a guess. The calendar feed's ETag is a digest of its body, compared weakly for
`If-None-Match` (§13.1.2), so a client that already has it gets 304 and no body.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response

from imvo_workflow.domain.errors import MalformedRequest

#: One entity tag: RFC 9110 §8.8.3 (etagc includes obs-text, which Starlette hands over as
#: latin-1 characters).
_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')

#: The opaque part of a covenant version's ETag, exactly as the API writes it.
_VERSION = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True, slots=True)
class EntityTag:
    opaque: str
    weak: bool = False


def _skip_space(value: str, at: int) -> int:
    while at < len(value) and value[at] in " \t":
        at += 1
    return at


def parse(header: str) -> list[EntityTag] | None:
    """The tags of an `If-Match`/`If-None-Match` value; None for `*`. MalformedRequest when
    the value is not `*` or a comma-separated list of quoted entity tags."""
    value = header.strip(" \t")
    if value == "*":
        return None
    tags: list[EntityTag] = []
    at = 0
    while True:
        at = _skip_space(value, at)
        if at < len(value) and value[at] == ",":  # empty list elements are allowed (§5.6.1)
            at += 1
            continue
        if at == len(value):
            return tags
        found = _TAG.match(value, at)
        end = _skip_space(value, found.end()) if found else at
        if found is None or (end < len(value) and value[end] != ","):
            raise MalformedRequest(
                f"'{header[:80]}' is geen geldige ETag-lijst: verwacht * of ETags tussen "
                'aanhalingstekens, zoals "3", gescheiden door komma\'s.'
            )
        tags.append(EntityTag(found.group(2), weak=found.group(1) is not None))
        at = end


def wanted_versions(if_match: str | None) -> frozenset[int] | None:
    """The covenant versions an `If-Match` accepts (strong comparison); None when any will do
    (no header, or `*`). An empty set: no tag can match (only weak or foreign tags)."""
    if if_match is None:
        return None
    tags = parse(if_match)
    if tags is None:
        return None
    return frozenset(
        int(tag.opaque) for tag in tags if not tag.weak and _VERSION.fullmatch(tag.opaque)
    )


def body_etag(body: bytes) -> str:
    """A strong ETag for a representation: a digest of its bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(request: Request, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison) or is `*`: answer 304."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    try:
        tags = parse(header)
    except MalformedRequest:  # a GET with a broken validator is simply answered in full
        return False
    if tags is None:
        return True
    mine = EntityTag(etag.strip('"'))
    return any(tag.opaque == mine.opaque for tag in tags)


def http_date(moment: datetime) -> str:
    """An HTTP-date (IMF-fixdate, RFC 9110 §5.6.7)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def conditional_get(
    request: Request, body: bytes, *, media_type: str, last_modified: datetime | None
) -> Response:
    """The answer to a GET or HEAD of `body`: with ETag and Last-Modified, 304 when the client
    has it already, and no body for HEAD (its Content-Length still that of the GET)."""
    etag = body_etag(body)
    headers = {"ETag": etag}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    if none_match(request, etag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(b"", media_type=media_type, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
