"""A zip archive of fixed-time entries, an entry deflated elsewhere taken as it is: the .docx.

python-docx hands a package's parts to a writer one by one; zipfile would deflate each on the
thread that writes it. The Word report's document part is megabytes of text for a thousand
covenants, and deflating it (some 18 ms) is work a second core can do while the rest of the
document is put together (zlib lets go of the GIL), but zipfile cannot take an entry deflated
elsewhere. So the archive is written here, as much of the zip format (PKWARE's APPNOTE) as a
.docx needs: local headers, entries stored or deflated, the central directory and its end
record; ASCII names, no zip64 (a report is not 4 GiB). Every entry carries the format's
earliest time and a plain file's attributes, so the same parts give the same bytes; zipfile
reads them back (tests/integration/test_report_since.py checks every entry's checksum).

An entry may be deflated in pieces: each piece a raw deflate stream of its own (`deflated`)
ends on a byte boundary (a sync flush; the last one a finish) and refers back to nothing
before it, so the pieces joined are one stream, as pigz deflates in parallel.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

#: zlib's level: the document of a thousand covenants is megabytes of text, and level 1
#: deflates it about as well as the default in a fraction of the time.
LEVEL = 1
_DEFLATED, _STORED = 8, 0
#: 1 January 1980 00:00, the format's earliest time, in MS-DOS form (date, time).
_DOS_DATE, _DOS_TIME = (0 << 9) | (1 << 5) | 1, 0
#: Made on Unix (3) by version 2.0 of the format, as zipfile writes it; a plain file, rw-r--r--.
_MADE_BY, _NEEDED, _ATTRIBUTES = (3 << 8) | 20, 20, 0o644 << 16
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


def deflated(*data: bytes, last: bool = True) -> bytes:
    """`data` joined, as a piece of raw deflate stream (see the module's docstring): ended by a
    sync flush, or finished when it is the entry's last piece."""
    deflater = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    # one call: zlib lets go of the GIL for each, and in a second thread each call's return
    # waits for the first thread to let go of it in turn (up to 5 ms: sys.getswitchinterval)
    joined = data[0] if len(data) == 1 else b"".join(data)
    return deflater.compress(joined) + deflater.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


@dataclass(frozen=True, slots=True)
class _Entry:
    name: bytes
    method: int
    crc: int
    packed: int
    size: int
    offset: int


class FixedTimeZip:
    """A zip archive written entry by entry into memory; `close` ends it and gives its bytes."""

    def __init__(self) -> None:
        self._out = io.BytesIO()
        self._entries: list[_Entry] = []

    def stored(self, name: str, data: bytes) -> None:
        """`data` as it is (a picture, compressed already)."""
        self._add(name, _STORED, [data], zlib.crc32(data), len(data))

    def deflate(self, name: str, data: bytes) -> None:
        """`data` deflated here."""
        self._add(name, _DEFLATED, [deflated(data)], zlib.crc32(data), len(data))

    def deflated(self, name: str, raw: Iterable[bytes], pieces: Iterable[bytes]) -> None:
        """An entry whose data is the `raw` pieces joined, deflated as `pieces` (each deflated
        on its own, the last one finished: `deflated`)."""
        crc, size = 0, 0
        for piece in raw:
            crc, size = zlib.crc32(piece, crc), size + len(piece)
        self._add(name, _DEFLATED, list(pieces), crc, size)

    def _add(self, name: str, method: int, pieces: list[bytes], crc: int, size: int) -> None:
        encoded = name.encode("ascii")
        packed = sum(map(len, pieces))
        offset = self._out.tell()
        header = _LOCAL.pack(
            b"PK\x03\x04", _NEEDED, 0, 0, method, _DOS_TIME, _DOS_DATE, crc, packed, size,
            len(encoded), 0,
        )  # fmt: skip
        self._out.write(header)
        self._out.write(encoded)
        for piece in pieces:
            self._out.write(piece)
        self._entries.append(_Entry(encoded, method, crc, packed, size, offset))

    def close(self) -> bytes:
        """The archive: the entries, then the central directory and its end record."""
        start = self._out.tell()
        for e in self._entries:
            record = _CENTRAL.pack(
                b"PK\x01\x02", _MADE_BY & 0xFF, _MADE_BY >> 8, _NEEDED, 0, 0, e.method,
                _DOS_TIME, _DOS_DATE, e.crc, e.packed, e.size, len(e.name), 0, 0, 0, 0,
                _ATTRIBUTES, e.offset,
            )  # fmt: skip
            self._out.write(record)
            self._out.write(e.name)
        end = self._out.tell()
        count = len(self._entries)
        self._out.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, end - start, start, 0))
        return self._out.getvalue()
