"""The timeline as a PNG, for the Word report: the same lanes, scale and colours as the SVG.

Word cannot show SVG reliably (older versions show nothing; newer ones want a PNG fallback
anyway), and turning our SVG into a PNG needs cairo (cairosvg) or a browser, neither of which
installs from PyPI alone. Pillow does (wheels carry FreeType and a font), so the picture is
drawn again here from the lanes (reports/timeline.Scale gives both drawings one geometry),
at twice the SVG's size for print. The same picture gives the same bytes: Pillow's PNG, and
for a long timeline the PNG written here (_palette_png).
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from imvo_workflow.reports.memo import Memo
from imvo_workflow.reports.timeline import (
    LABEL_WIDTH,
    LANE,
    TOP,
    Lane,
    Scale,
    canvas_width,
)

#: Twice the SVG's size for print; a long report (hundreds of lanes) at the SVG's own size, in
#: a palette of its few colours and with Pillow's bitmap font, so the picture stays small enough
#: to encode and to open in Word: a thousand lanes in RGB took half a second to encode, and
#: FreeType a third of a second to draw their labels (the bitmap font: a twentieth).
ZOOM = 2
BIG = 100
#: What the bitmap font (Latin-1 only) writes for the typography it lacks.
PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "→": "->",
                       "…": "...", "•": "*"})  # fmt: skip
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _latin1(text: str) -> str:
    return text.translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    try:
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except ValueError:
        return (204, 204, 204)


class _Pen:
    """Draws on the picture: colours as the image takes them (a palette index is found once,
    not per shape), text in either font. Pillow's bitmap font has no anchors, so its box is
    placed by hand (its baseline is its bottom), and each label's pixels are drawn once and
    stamped: a thousand lanes share some fifty labels."""

    def __init__(self, image: Image.Image, zoom: int) -> None:
        self.image, self.draw = image, ImageDraw.Draw(image)
        self.font: Font = (
            ImageFont.load_default(size=11 * zoom)
            if zoom > 1
            else ImageFont.load_default_imagefont()
        )
        self.inks: Memo[tuple[int, int, int], int | tuple[int, int, int]] = Memo(self._ink)
        self.stamps: Memo[str, Image.Image] = Memo(self._stamp)

    def _ink(self, rgb: tuple[int, int, int]) -> int | tuple[int, int, int]:
        palette = self.image.palette
        return palette.getcolor(rgb, self.image) if palette is not None else rgb

    def _stamp(self, text: str) -> Image.Image:
        """`text`'s pixels in the bitmap font, as a mask."""
        assert isinstance(self.font, ImageFont.ImageFont)
        _, _, width, height = self.font.getbbox(text)
        stamp = Image.new("1", (width, height))
        ImageDraw.Draw(stamp).text((0, 0), text, fill=1, font=self.font)
        return stamp

    def text(self, xy: tuple[float, float], text: str, anchor: str = "la",
             fill: tuple[int, int, int] = (0, 0, 0)) -> None:  # fmt: skip
        """`text` at `xy` by its anchor (left/right, ascender/baseline)."""
        if isinstance(self.font, ImageFont.FreeTypeFont):
            self.draw.text(xy, text, fill=fill, font=self.font, anchor=anchor)
            return
        stamp = self.stamps[_latin1(text)]
        x = xy[0] - stamp.width if anchor[0] == "r" else xy[0]
        y = xy[1] - stamp.height if anchor[1] == "s" else xy[1]
        self.image.paste(self.inks[fill], (int(x), int(y)), stamp)

    def line(self, x: float, top: int, bottom: int, width: int) -> None:
        """A grey vertical line, as draw.line draws it (`width` pixels from int(x), `top` to
        `bottom` inclusive), filled in one step: drawn, a line down a thousand lanes took 1 ms."""
        self.image.paste(self.inks[(187, 187, 187)], (int(x), top, int(x) + width, bottom + 1))

    def dashes(self, x: float, top: int, bottom: int, zoom: int) -> None:
        """The report date's line from `top` to `bottom` (unzoomed rows), a dash every 7 rows
        from its first to its fifth, `zoom` wide from int(x), as draw.line drew them one by
        one (three thousand calls for a thousand lanes), pasted through one mask."""
        mask = bytearray(zoom * self.image.height)
        for part in range(top, bottom, 7):
            start, end = part * zoom * zoom, (min(part + 4, bottom) * zoom + 1) * zoom
            mask[start:end] = b"\xff" * (end - start)
        column = Image.frombytes("L", (zoom, self.image.height), bytes(mask))
        self.image.paste(
            self.inks[(0, 0, 0)], (int(x), 0, int(x) + zoom, self.image.height), column
        )


def timeline_png(
    lanes: list[Lane], as_of: date, colors: dict[str, str], labels: dict[str, str]
) -> bytes:
    scale = Scale.of(lanes, as_of)
    zoom = ZOOM if len(lanes) <= BIG else 1
    width = canvas_width(labels) * zoom
    bottom = TOP + LANE * len(lanes)
    height = (bottom + 60) * zoom
    image = Image.new("RGB" if zoom > 1 else "P", (width, height), "white")
    pen, draw = _Pen(image, zoom), ImageDraw.Draw(image)
    stage_ink = {stage: pen.inks[_rgb(color)] for stage, color in colors.items()}
    other, black = pen.inks[_rgb("#ccc")], pen.inks[(0, 0, 0)]
    x: Memo[date, float] = Memo(lambda day: scale.x(day) * zoom)

    for tick, label in scale.ticks():
        pen.line(x[tick], (TOP - 6) * zoom, bottom * zoom, 2 if tick.month == 1 else 1)
        pen.text((x[tick] + 2 * zoom, (TOP - 21) * zoom), label, fill=(51, 51, 51))
    for row, lane in enumerate(lanes):
        y = (TOP + row * LANE) * zoom
        pen.text(((LABEL_WIDTH - 6) * zoom, y + 14 * zoom), lane.label, "rs")
        ends = [since for _, since in lane.steps[1:]] + [as_of]
        for (stage, since), until in zip(lane.steps, ends, strict=False):
            left, right = x[max(since, scale.first)], x[until]
            draw.rectangle(
                [left, y + 3 * zoom, max(right, left + 3), y + (LANE - 3) * zoom],
                fill=stage_ink.get(stage, other),
            )
        for day, _ in lane.marks:
            if scale.shows(day):
                cx, cy, r = x[day], y + LANE * zoom / 2, 5 * zoom
                draw.polygon(
                    [(cx, cy - r), (cx + 4 * zoom, cy), (cx, cy + r), (cx - 4 * zoom, cy)],
                    fill=black,
                )
    pen.dashes(x[as_of], TOP - 6, bottom, zoom)
    legend = (bottom + 25) * zoom
    draw.polygon(
        [
            ((LABEL_WIDTH - 110) * zoom, legend - 10 * zoom),
            ((LABEL_WIDTH - 105) * zoom, legend - 4 * zoom),
            ((LABEL_WIDTH - 110) * zoom, legend + 2 * zoom),
            ((LABEL_WIDTH - 115) * zoom, legend - 4 * zoom),
        ],
        fill=black,
    )
    pen.text(((LABEL_WIDTH - 100) * zoom, legend), "deadline doel", "ls")
    for i, (stage, label) in enumerate(labels.items()):
        lx = (LABEL_WIDTH + i * 110) * zoom
        draw.rectangle(
            [lx, legend - 10 * zoom, lx + 12 * zoom, legend + 2 * zoom],
            fill=stage_ink.get(stage, other),
        )
        pen.text((lx + 16 * zoom, legend), label, "ls")
    if image.mode == "P":
        return _palette_png(image)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=3)
    return out.getvalue()


def _palette_png(image: Image.Image) -> bytes:
    """A palette picture as a PNG of 4 bits a pixel (8 over 16 colours), every row unfiltered,
    compressed at zlib's level 1. Pillow's own encoder took 130 ms for a thousand lanes (23
    million pixels); this about half. PNG puts a filter byte before each row, 0 for none: the
    picture moved two pixels right on a canvas of index 0 packs to exactly those rows."""
    palette = image.getpalette() or []
    bits = 4 if len(palette) <= 3 * 16 else 8
    filtered = Image.new("P", (image.width + 8 // bits, image.height), 0)
    filtered.paste(image, (8 // bits, 0))
    rows = filtered.tobytes("raw", "P;4" if bits == 4 else "P")
    header = struct.pack(">IIBBBBB", image.width, image.height, bits, 3, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", bytes(palette)),
            _chunk(b"IDAT", zlib.compress(rows, 1)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
