"""The timeline as PNG pictures for the Word report: the same lanes, scale and colours as the SVG.

Word cannot show SVG reliably (older versions show nothing; newer ones want a PNG fallback
anyway), and turning our SVG into a PNG needs cairo (cairosvg) or a browser, neither of which
installs from PyPI alone. Pillow does (wheels carry FreeType and a font), so the picture is
drawn again here from the lanes (reports/timeline.Scale gives both drawings one geometry),
at twice the SVG's size for print. A timeline too tall for a page is drawn as several pictures
of consecutive lanes (timeline_pngs), each with its axis and legend, all on the timeline's one
scale, so a day lies at the same x in every picture; such a long timeline's lanes are composed
as rows of bytes rather than drawn (_Rows), to the same pixels. The same lanes give the same
bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from datetime import date
from itertools import pairwise
from operator import itemgetter

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
    some fifty labels. A short timeline's bars and diamonds are ImageDraw's rectangles and
    polygons: with Pillow 13, filling a box by Image.paste took 3.1 us against draw.rectangle's
    2.0, and stamping a pre-drawn diamond through a mask 5.5 us against draw.polygon's 3.5. A
    long timeline's lanes are not drawn but composed as bytes (_Rows), from pieces the pen
    draws once (`onto` them): a label's rows, the diamond's shape."""

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

    def resume(self, image: Image.Image) -> None:
        """Go on drawing on `image`."""
        self.image, self.draw = image, ImageDraw.Draw(image)

    @contextmanager
    def onto(self, image: Image.Image) -> Iterator[None]:
        """Draw on `image` for a while (a piece the long pictures' lanes are composed from),
        then on the picture again."""
        saved = self.image, self.draw
        self.image, self.draw = image, ImageDraw.Draw(image)
        try:
            yield
        finally:
            self.image, self.draw = saved

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
    picture is drawn, or while the caller does other work. A long timeline's lanes are
    composed as rows of bytes (_Rows), not drawn element by element, on a copy of the frame
    (axis and legend) drawn once for pictures of as many lanes. A thousand lanes' 17 pictures:
    some 82 ms drawing (95 before both) and 45 compressing; 93 ms in all (113 before)."""
    scale = Scale.of(lanes, as_of)
    pen = _Pen(ZOOM if len(lanes) <= BIG else 1, colors)
    stage_ink = {stage: pen.inks[_rgb(color)] for stage, color in colors.items()}
    x: Memo[date, float] = Memo(lambda day: scale.x(day) * pen.zoom)
    width = canvas_width(labels) * pen.zoom
    rows = _Rows(pen, width, scale, as_of, stage_ink, x) if pen.zoom == 1 else None
    frames: Memo[int, Image.Image] = Memo(
        lambda count: _frame(pen, count, scale, stage_ink, x, labels)
    )
    pictures = []
    for first in range(0, max(len(lanes), 1), per_picture):
        part = lanes[first : first + per_picture]
        pen.resume(frames[len(part)].copy())
        _draw(pen, part, scale, as_of, stage_ink, x, rows)
        pictures.append(encoder.submit(_png, pen.image))
    return pictures


def _stages(lane: Lane, first: date, as_of: date) -> Iterator[tuple[str, date, date]]:
    """A lane's stages as bars: each stage, the day its bar starts (not before the axis'
    first day) and the day it ends (the next stage's start, or the report date)."""
    ends = [since for _, since in lane.steps[1:]] + [as_of]
    for (stage, since), until in zip(lane.steps, ends, strict=False):
        yield stage, max(since, first), until


def _grid(pen: _Pen, scale: Scale, x: Memo[date, float], top: int, bottom: int) -> None:
    """The axis' grey lines from row `top` to `bottom`: 2 pixels wide on 1 January, 1 on
    1 July."""
    for tick, _ in scale.ticks():
        pen.line(x[tick], top, bottom, 2 if tick.month == 1 else 1)


def _lane_label(pen: _Pen, y: int, label: str) -> None:
    """A lane's label, right-aligned before the plot, on the lane whose first row is `y`."""
    pen.text(((LABEL_WIDTH - 6) * pen.zoom, y + 14 * pen.zoom), label, "rs")


class _Rows:
    """A long timeline's lanes composed as rows of palette indices, a byte a pixel, and made
    pictures by Image.frombytes: drawn, a thousand lanes were some 10,000 Pillow calls (4,500
    bars, 5,000 diamonds, 1,600 labels) and ~70 ms of the pictures' ~115. Composed, they are
    still ~65 ms on this 2-core machine: a slice assigned from Python costs 240 ns, and a
    diamond takes one per width (five) and a bar several look-ups, so they cost about what
    Pillow's calls (2-3.5 us each) did; what would pay is fewer Python steps per element.

    A lane's rows are few distinct ones: left, its label's (drawn by the pen once per label);
    on the plot, the axis' lines above and below the bars, the bar row (the lane's bars, slice
    assignments on the axis' lines) where the bars are, and where the diamonds are, one row per
    width of the diamond (the bar row with a slice per diamond). So a picture is two columns of
    joined rows: the labels', and the plot's, each lane's picked from its few by one itemgetter.
    The pixels are those the pen drew: Pillow cuts a rectangle's and a polygon's corners to
    whole pixels (int()), so a bar covers int(left) to int(right), and the diamond's shape only
    shifts with int(x) (its spans are read once from the pen's own diamond). Lanes hold
    nothing of their neighbours: the label lies in its lane's rows left of the diamonds, bars
    and diamonds on the plot (canvas_width leaves room on its right).
    """

    def __init__(
        self,
        pen: _Pen,
        width: int,
        scale: Scale,
        as_of: date,
        stage_ink: dict[str, Ink],
        x: Memo[date, float],
    ) -> None:
        self.pen, self.width, self.scale, self.as_of = pen, width, scale, as_of
        self.inks = {stage: bytes([_index(ink)]) for stage, ink in stage_ink.items()}
        self.other = bytes([_index(pen.inks[_rgb(OTHER)])])
        self.x: Memo[date, int] = Memo(lambda day: int(x[day]))
        spans = self._diamond()
        #: The plot's columns start where a diamond on the axis' first day starts.
        self.split = self.x[scale.first] + min(start for _, start, _ in spans)
        background = Image.new("P", (width, 1), pen.inks[WHITE])
        with pen.onto(background):
            _grid(pen, scale, x, 0, 0)
        self.background = background.tobytes()
        self.labels: Memo[str, bytes] = Memo(self._label)
        #: The diamond's distinct spans, narrowest first, each with as many black pixels.
        self.shapes = {(start, stop): bytes([_index(pen.inks[BLACK])]) * (stop - start)
                       for _, start, stop in sorted(spans, key=lambda s: s[2] - s[1])}  # fmt: skip
        nested = list(self.shapes)
        assert all(a <= c and d <= b for (c, d), (a, b) in pairwise(nested))
        #: Each of a lane's rows by its place in [axis, bar row, *a row per shape].
        bars = {row: 1 for row in range(3, LANE - 2)}  # as the pen's bars: rows 3 to 17
        kinds = list(self.shapes)
        diamonds = {LANE // 2 + row: 2 + kinds.index((start, stop)) for row, start, stop in spans}
        assert diamonds.keys() <= bars.keys()  # the diamond lies on the bars' rows
        self.rows = itemgetter(*[diamonds.get(row, bars.get(row, 0)) for row in range(LANE)])

    def _label(self, label: str) -> bytes:
        """A lane's rows left of the plot, with its label."""
        rows = Image.frombytes("P", (self.width, LANE), self.background * LANE)
        with self.pen.onto(rows):
            _lane_label(self.pen, 0, label)
        return rows.crop((0, 0, self.split, LANE)).tobytes()

    def _diamond(self) -> list[tuple[int, int, int]]:
        """The pen's diamond as spans (row, first and past the last column), from its middle's
        row and int(x)."""
        half = LANE // 2
        mask = Image.new("L", (LANE, LANE), 0)
        with self.pen.onto(mask):
            self.pen.diamond(half, half)
        spans = []
        for row in range(LANE):
            columns = [col for col in range(LANE) if mask.getpixel((col, row))]
            if columns:
                spans.append((row - half, columns[0] - half, columns[-1] + 1 - half))
        return spans

    def paste(self, picture: Image.Image, lanes: list[Lane], top: int) -> None:
        """The rows of `lanes`, one under the other, pasted into `picture` from row `top`.
        Written through memoryviews: a slice assigned to a memoryview took 240 ns, to a
        bytearray 440."""
        width, x, split = self.width, self.x, self.split
        first, end = self.scale.first, self.scale.end
        axis = self.background[split:]
        bar = memoryview(bytearray(axis))
        shaped = memoryview(bytearray(axis))
        plot: list[bytes] = []
        for lane in lanes:
            bar[:] = axis
            for stage, since, until in _stages(lane, first, self.as_of):
                left = x[since]
                right = min(max(x[until], left + 3), width - 1)
                ink = self.inks.get(stage, self.other)
                bar[left - split : right + 1 - split] = ink * (right + 1 - left)
            row = bar.tobytes()
            centres = [x[day] - split for day, _ in lane.marks if first <= day <= end]
            rows = [axis, row]
            shaped[:] = row
            for (start, stop), black in self.shapes.items() if centres else ():
                for centre in centres:  # over the narrower spans: each holds the one before
                    shaped[centre + start : centre + stop] = black
                rows.append(shaped.tobytes())
            rows += [row] * (len(self.shapes) + 2 - len(rows))
            plot += self.rows(rows)
        height = len(lanes) * LANE
        labels = b"".join([self.labels[lane.label] for lane in lanes])
        # the rows read in place (frombuffer), not copied into a new image first
        picture.paste(_rows_image(labels, split, height), (0, top))
        picture.paste(_rows_image(b"".join(plot), width - split, height), (split, top))


def _rows_image(rows: bytes, width: int, height: int) -> Image.Image:
    """Rows of palette indices, a byte a pixel, as an image over the same memory."""
    return Image.frombuffer("P", (width, height), rows, "raw", "P", 0, 1)


def _index(ink: Ink) -> int:
    """A palette picture's ink: its index."""
    assert isinstance(ink, int)
    return ink


def _frame(
    pen: _Pen,
    count: int,
    scale: Scale,
    stage_ink: dict[str, Ink],
    x: Memo[date, float],
    labels: dict[str, str],
) -> Image.Image:
    """A picture of `count` lanes with all but its lanes and the report date's line: the axis
    and the legend. Drawn once for the pictures of as many lanes (all but a long timeline's
    last): drawn for each, they took a fifth of a thousand lanes' ~95 ms."""
    zoom = pen.zoom
    bottom = TOP + LANE * count
    pen.start(canvas_width(labels) * zoom, (bottom + FOOT) * zoom)
    other = pen.inks[_rgb(OTHER)]
    _grid(pen, scale, x, (TOP - 6) * zoom, bottom * zoom)
    for tick, label in scale.ticks():
        pen.text((x[tick] + 2 * zoom, (TOP - 21) * zoom), label, fill=DARK)
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
    return pen.image


def _draw(
    pen: _Pen,
    lanes: list[Lane],
    scale: Scale,
    as_of: date,
    stage_ink: dict[str, Ink],
    x: Memo[date, float],
    rows: _Rows | None,
) -> None:
    """`lanes` on the pen's picture (their frame): a bar per stage and a diamond per deadline
    in each lane (drawn, or composed by `rows`), then the report date's line over them."""
    if rows is None:
        _lanes(pen, lanes, scale, as_of, stage_ink, x)
    else:
        rows.paste(pen.image, lanes, TOP * pen.zoom)
    pen.dashes(x[as_of], TOP - 6, TOP + LANE * len(lanes))


def _lanes(
    pen: _Pen,
    lanes: list[Lane],
    scale: Scale,
    as_of: date,
    stage_ink: dict[str, Ink],
    x: Memo[date, float],
) -> None:
    """`lanes` drawn one element after another (a short timeline's, at ZOOM): each lane's
    label, a bar per stage and a diamond per deadline on the axis."""
    zoom, other = pen.zoom, pen.inks[_rgb(OTHER)]
    for row, lane in enumerate(lanes):
        y = (TOP + row * LANE) * zoom
        _lane_label(pen, y, lane.label)
        for stage, since, until in _stages(lane, scale.first, as_of):
            left, right = x[since], x[until]
            ink = stage_ink.get(stage, other)
            pen.box(ink, left, y + 3 * zoom, max(right, left + 3), y + (LANE - 3) * zoom)
        middle = y + LANE * zoom // 2
        for day, _ in lane.marks:
            if scale.shows(day):
                pen.diamond(x[day], middle)


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
