"""The timeline as PNG pictures for the Word report: the same lanes, scale and colours as the SVG.

Word cannot show SVG reliably (older versions show nothing; newer ones want a PNG fallback
anyway), and turning our SVG into a PNG needs cairo (cairosvg) or a browser, neither of which
installs from PyPI alone. Pillow does (wheels carry FreeType and a font), so the picture is
drawn again here from the lanes (reports/timeline.Scale gives both drawings one geometry),
at twice the SVG's size for print. A timeline too tall for a page is drawn as several pictures
of consecutive lanes (timeline_pngs), each with its axis and legend, all on the timeline's one
scale, so a day lies at the same x in every picture. The same lanes give the same bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from concurrent.futures import Executor, Future
from datetime import date

from PIL import Image, ImageDraw, ImageFont, ImagePalette

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
#: a palette of its few colours and with Pillow's bitmap font, so the pictures stay small enough
#: to encode and to open in Word: a thousand lanes in RGB took half a second to encode, and
#: FreeType a third of a second to draw their labels (the bitmap font: a twentieth).
ZOOM = 2
BIG = 100
#: Rows under the last lane: the legend's.
FOOT = 60
#: What the bitmap font (Latin-1 only) writes for the typography it lacks.
PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "→": "->",
                       "…": "...", "•": "*"})  # fmt: skip
WHITE, BLACK, GREY, DARK, OTHER = (255, 255, 255), (0, 0, 0), (187, 187, 187), (51, 51, 51), "#ccc"
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Ink = int | tuple[int, int, int]


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


def height_ratio(lanes: int, labels: dict[str, str]) -> float:
    """A picture of `lanes` lanes: its height over its width, at either zoom."""
    return (TOP + LANE * lanes + FOOT) / canvas_width(labels)


def lanes_fitting(ratio: float, labels: dict[str, str]) -> int:
    """The most lanes a picture holds whose height may be `ratio` times its width (one at
    least: a lane is never left out)."""
    return max(1, int((ratio * canvas_width(labels) - TOP - FOOT) // LANE))


class _Pen:
    """Draws the timeline's pictures one after another (start), in the timeline's inks: RGB
    colours, or a palette's indices, one palette for every picture (white first). Each label's
    pixels in the bitmap font are drawn once and stamped (draw.bitmap): a thousand lanes share
    some fifty labels. Bars and diamonds are ImageDraw's rectangles and polygons: with Pillow
    13, filling a box by Image.paste took 3.1 us against draw.rectangle's 2.0, and stamping a
    pre-drawn diamond through a mask 5.5 us against draw.polygon's 3.5; a diamond lies at any
    fraction of a pixel, and the smooth picture's must stay as drawn, so one stamp would serve
    only the long pictures (with draw.bitmap: 7 of a thousand lanes' ~120 ms, not worth a
    second way of drawing them)."""

    def __init__(self, zoom: int, colors: dict[str, str]) -> None:
        self.zoom = zoom
        self.font: Font = (
            ImageFont.load_default(size=11 * zoom)
            if zoom > 1
            else ImageFont.load_default_imagefont()
        )
        self.palette = ImagePalette.ImagePalette() if zoom == 1 else None
        self.inks: Memo[tuple[int, int, int], Ink] = Memo(self._ink)
        for rgb in (WHITE, BLACK, GREY, DARK, *map(_rgb, colors.values()), _rgb(OTHER)):
            self.inks[rgb] = self._ink(rgb)  # the palette in one order, white first
        self.stamps: Memo[str, Image.Image] = Memo(self._stamp)
        self.image = Image.new("1", (1, 1))
        self.draw = ImageDraw.Draw(self.image)

    def _ink(self, rgb: tuple[int, int, int]) -> Ink:
        return rgb if self.palette is None else self.palette.getcolor(rgb)

    def start(self, width: int, height: int) -> None:
        """A new white picture to draw on."""
        mode = "RGB" if self.palette is None else "P"
        self.image = Image.new(mode, (width, height), self.inks[WHITE])
        if self.palette is not None:
            self.image.putpalette(self.palette.palette)
        self.draw = ImageDraw.Draw(self.image)

    def _stamp(self, text: str) -> Image.Image:
        """`text`'s pixels in the bitmap font, as a mask."""
        assert isinstance(self.font, ImageFont.ImageFont)
        plain = _latin1(text)
        _, _, width, height = self.font.getbbox(plain)
        stamp = Image.new("1", (width, height))
        ImageDraw.Draw(stamp).text((0, 0), plain, fill=1, font=self.font)
        return stamp

    def diamond(self, cx: float, cy: int) -> None:
        """A deadline's black diamond (8 by 10, zoomed) with its middle at (`cx`, `cy`)."""
        half, r = 4 * self.zoom, 5 * self.zoom
        corners = [(cx, cy - r), (cx + half, cy), (cx, cy + r), (cx - half, cy)]
        self.draw.polygon(corners, fill=self.inks[BLACK])

    def box(self, ink: Ink, left: float, top: float, right: float, bottom: float) -> None:
        """A filled rectangle, both ends included."""
        self.draw.rectangle((left, top, right, bottom), fill=ink)

    def text(self, xy: tuple[float, float], text: str, anchor: str = "la",
             fill: tuple[int, int, int] = BLACK) -> None:  # fmt: skip
        """`text` at `xy` by its anchor (left/right, ascender/baseline). Pillow's bitmap font
        has no anchors, so its box is placed by hand (its baseline is its bottom)."""
        if isinstance(self.font, ImageFont.FreeTypeFont):
            self.draw.text(xy, text, fill=fill, font=self.font, anchor=anchor)
            return
        stamp = self.stamps[text]
        x = xy[0] - stamp.width if anchor[0] == "r" else xy[0]
        y = xy[1] - stamp.height if anchor[1] == "s" else xy[1]
        self.draw.bitmap((int(x), int(y)), stamp, fill=self.inks[fill])

    def line(self, x: float, top: int, bottom: int, width: int) -> None:
        """A grey vertical line, as draw.line draws it (`width` pixels from int(x), `top` to
        `bottom` inclusive), filled as one box: drawn, a line down a thousand lanes took 1 ms."""
        self.box(self.inks[GREY], int(x), top, int(x) + width - 1, bottom)

    def dashes(self, x: float, top: int, bottom: int) -> None:
        """The report date's line from `top` to `bottom` (unzoomed rows), a dash every 7 rows
        from its first to its fifth, `zoom` wide from int(x), as draw.line drew them one by
        one (three thousand calls for a thousand lanes), pasted through one mask."""
        zoom, height = self.zoom, self.image.height
        mask = bytearray(zoom * height)
        for part in range(top, bottom, 7):
            start, end = part * zoom * zoom, (min(part + 4, bottom) * zoom + 1) * zoom
            mask[start:end] = b"\xff" * (end - start)
        column = Image.frombytes("L", (zoom, height), bytes(mask))
        self.image.paste(self.inks[BLACK], (int(x), 0, int(x) + zoom, height), column)


def timeline_pngs(
    lanes: list[Lane],
    as_of: date,
    colors: dict[str, str],
    labels: dict[str, str],
    per_picture: int,
    encoder: Executor,
) -> list[Future[bytes]]:
    """The timeline as pictures of `per_picture` lanes each (the last one of the rest), in the
    lanes' order: one picture if all fit. Every picture has the axis, the report date's line
    and the legend, on the scale of all lanes. Each is drawn here and written as a PNG by
    `encoder`: in a thread, its compression (zlib lets go of the GIL) runs while the next
    picture is drawn, or while the caller does other work. A thousand lanes' 17 pictures:
    some 90 ms drawing and 45 compressing; 153 ms one after the other, 120 so."""
    scale = Scale.of(lanes, as_of)
    pen = _Pen(ZOOM if len(lanes) <= BIG else 1, colors)
    stage_ink = {stage: pen.inks[_rgb(color)] for stage, color in colors.items()}
    x: Memo[date, float] = Memo(lambda day: scale.x(day) * pen.zoom)
    pictures = []
    for first in range(0, max(len(lanes), 1), per_picture):
        _draw(pen, lanes[first : first + per_picture], scale, as_of, stage_ink, x, labels)
        pictures.append(encoder.submit(_png, pen.image))
    return pictures


def _draw(
    pen: _Pen,
    lanes: list[Lane],
    scale: Scale,
    as_of: date,
    stage_ink: dict[str, Ink],
    x: Memo[date, float],
    labels: dict[str, str],
) -> None:
    """One picture of `lanes`: the axis, a bar per stage and a diamond per deadline in each
    lane, the report date's line, the legend."""
    zoom = pen.zoom
    bottom = TOP + LANE * len(lanes)
    pen.start(canvas_width(labels) * zoom, (bottom + FOOT) * zoom)
    other = pen.inks[_rgb(OTHER)]
    for tick, label in scale.ticks():
        pen.line(x[tick], (TOP - 6) * zoom, bottom * zoom, 2 if tick.month == 1 else 1)
        pen.text((x[tick] + 2 * zoom, (TOP - 21) * zoom), label, fill=DARK)
    for row, lane in enumerate(lanes):
        y = (TOP + row * LANE) * zoom
        pen.text(((LABEL_WIDTH - 6) * zoom, y + 14 * zoom), lane.label, "rs")
        ends = [since for _, since in lane.steps[1:]] + [as_of]
        for (stage, since), until in zip(lane.steps, ends, strict=False):
            left, right = x[max(since, scale.first)], x[until]
            ink = stage_ink.get(stage, other)
            pen.box(ink, left, y + 3 * zoom, max(right, left + 3), y + (LANE - 3) * zoom)
        middle = y + LANE * zoom // 2
        for day, _ in lane.marks:
            if scale.shows(day):
                pen.diamond(x[day], middle)
    pen.dashes(x[as_of], TOP - 6, bottom)
    legend = (bottom + 25) * zoom
    pen.draw.polygon(
        [
            ((LABEL_WIDTH - 110) * zoom, legend - 10 * zoom),
            ((LABEL_WIDTH - 105) * zoom, legend - 4 * zoom),
            ((LABEL_WIDTH - 110) * zoom, legend + 2 * zoom),
            ((LABEL_WIDTH - 115) * zoom, legend - 4 * zoom),
        ],
        fill=pen.inks[BLACK],
    )
    pen.text(((LABEL_WIDTH - 100) * zoom, legend), "deadline doel", "ls")
    for i, (stage, label) in enumerate(labels.items()):
        lx = (LABEL_WIDTH + i * 110) * zoom
        pen.box(
            stage_ink.get(stage, other), lx, legend - 10 * zoom, lx + 12 * zoom, legend + 2 * zoom
        )
        pen.text((lx + 16 * zoom, legend), label, "ls")


def _png(image: Image.Image) -> bytes:
    """A picture as a PNG: RGB by Pillow, a palette picture written here (_palette_png)."""
    if image.mode == "P":
        return _palette_png(image)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=3)
    return out.getvalue()


def _palette_png(image: Image.Image) -> bytes:
    """A palette picture as a PNG of 4 bits a pixel (8 over 16 colours), every row unfiltered,
    compressed at zlib's level 1. Pillow's encoder (compress_level=1, 4 bits) took 141 ms for
    a thousand lanes' 17 page-sized pictures (8.1 ms a page), this 57 ms (3.8 ms a page), for
    490 kB against Pillow's 468. PNG puts a filter byte before each row, 0 for none: Pillow's
    raw encoder pads each packed row with a zero byte at its end, so one zero byte before the
    first row, and the last row's pad left off, give exactly PNG's rows."""
    palette = image.getpalette() or []
    bits = 4 if len(palette) <= 3 * 16 else 8
    rows = image.tobytes("raw", "P;4" if bits == 4 else "P", (image.width * bits + 7) // 8 + 1)
    header = struct.pack(">IIBBBBB", image.width, image.height, bits, 3, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", bytes(palette)),
            _chunk(b"IDAT", zlib.compress(b"\0" + rows[:-1], 1)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
