"""The .docx container (reports/fixed_zip.py): zipfile reads back every entry, stored or
deflated, one deflated in pieces elsewhere too, with its checksum, fixed time and attributes."""

from __future__ import annotations

import io
import os
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from imvo_workflow.reports.fixed_zip import FixedTimeZip, deflated


def _read(data: bytes) -> dict[str, tuple[bytes, zipfile.ZipInfo]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every entry's checksum holds
        return {info.filename: (archive.read(info), info) for info in archive.infolist()}


def test_entries_read_back_as_written_with_a_fixed_time_and_plain_attributes() -> None:
    text = b"<w:document>" + b"<w:p>tekst</w:p>" * 20_000 + b"</w:document>"
    picture = os.urandom(5_000)
    archive = FixedTimeZip()
    archive.deflate("word/styles.xml", text)
    archive.stored("word/media/image1.png", picture)
    archive.deflate("leeg.xml", b"")
    read = _read(archive.close())
    assert list(read) == ["word/styles.xml", "word/media/image1.png", "leeg.xml"]
    assert read["word/styles.xml"][0] == text and read["leeg.xml"][0] == b""
    assert read["word/media/image1.png"][0] == picture
    infos = [info for _, info in read.values()]
    assert [i.compress_type for i in infos] == [
        zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
    ]  # fmt: skip
    assert infos[0].compress_size < len(text) // 10
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr for i in infos} == {0o644 << 16}
    assert {i.create_system for i in infos} == {3}


@given(st.lists(st.binary(max_size=3_000) | st.sampled_from([b"", b"<w:p/>" * 500]), max_size=5))
def test_pieces_deflated_on_their_own_join_into_one_entry(raw: list[bytes]) -> None:
    """Each piece a stream of its own (the last one finished), joined: what the Word report
    writes when the covenants' part was deflated in a second thread."""
    half = len(raw) // 2  # the first half in one call, the rest each on its own
    pieces = [deflated(*raw[:half], last=False)] if half else []
    pieces += [deflated(piece, last=False) for piece in raw[half:]] + [deflated(b"<einde/>")]
    archive = FixedTimeZip()
    archive.deflated("word/document.xml", [*raw, b"<einde/>"], pieces)
    (data, info), *_ = _read(archive.close()).values()
    assert data == b"".join(raw) + b"<einde/>"
    assert info.file_size == len(data) and info.compress_size == sum(map(len, pieces))


def test_the_same_entries_give_the_same_bytes() -> None:
    def archive() -> bytes:
        written = FixedTimeZip()
        written.deflate("a.xml", b"<a/>" * 100)
        written.stored("b.png", b"\x89PNG")
        return written.close()

    assert archive() == archive()
