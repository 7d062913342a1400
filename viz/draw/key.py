"""A key for the animated views that lists only what the current frame shows (at most six rows).

Matplotlib's legend is fixed when it is made, so a legend of a whole run lists arrows some frames
do not have (the noise of a deterministic step, the last step's noise). ``FrameKey`` draws its rows
in an axes of its own, in pixel units, and ``show(names)`` lays the visible rows out from the top
each frame: nothing is listed that the frame does not show, and no gap is left where a row hides.
"""

from __future__ import annotations

import re

from typing import Callable, Iterable, Optional, Sequence, Union

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from viz.draw.drawing import PATHS, point_marker, set_vector, vector_arrow
from viz.draw.sprites import TextSprite
from viz.draw.style import COLORS, POINTS, TEXT_PX, VECTORS, text_pt

MAX_ENTRIES = 6
HANDLE_PX = 52  # length of a handle
ROW_PX = 31  # height of a row
#: the point a headless (dashed) line ends on, drawn at its end in the key
LINE_POINT = {"prediction": "x0_hat", "to_uncond": "x0_uncond", "to_cond": "x0_cond", "to_guided": "guided",
              "ray": "origin"}

Handle = Callable[[Axes], list]
Entry = tuple[Union[str, Handle], str]


def _handle(ax: Axes, name: str) -> list:
    """The artists showing entry ``name`` (a vector, point, path or ring) at the origin of a row."""
    if name in VECTORS and VECTORS[name]["head"]:
        arrow = vector_arrow(ax, name, gid=f"key:{name}")
        return [arrow] + ([arrow.head] if arrow.head is not None else [])
    if name in VECTORS:
        st = VECTORS[name]
        line = Line2D([], [], color=COLORS[st["color"]], ls=st["ls"], lw=st["lw"])
        ax.add_line(line)
        return [line, point_marker(ax, LINE_POINT[name], gid=f"key:{name}:point")] if name in LINE_POINT else [line]
    if name in POINTS:
        return [point_marker(ax, name, gid=f"key:{name}")]
    if name in PATHS:
        line = Line2D([], [], **PATHS[name])
        ax.add_line(line)
        return [line]
    if name == "outside":
        ring = Line2D([], [], ls="", marker="o", ms=15, mfc="none", mec=COLORS["outside"], mew=2.2)
        ax.add_line(ring)
        return [ring]
    raise ValueError(f"no key handle for {name!r}")


def _move(artists: list, x0: float, x1: float, y: float) -> None:
    """Put a row's handle artists between ``x0`` and ``x1`` at height ``y`` (px)."""
    for a in artists:
        if hasattr(a, "set_positions"):
            set_vector(a, (x0, y), (x1, y))
        elif a.get_marker() not in (None, "None", "") and a.get_linestyle() in ("None", "", " "):
            # a point alone, or the point a dashed line ends on
            a.set_data([x1 if str(a.get_gid()).endswith(":point") else (x0 + x1) / 2], [y])
        else:
            a.set_data([x0, x1], [y, y])


def wrap_label(label: str, px: float, size_px: float = TEXT_PX["key"]) -> str:
    """``label`` broken between words into lines of at most about ``px`` (at ``size_px`` type),
    never inside a ``$...$`` formula; a label that already has lines, or fits, is kept."""
    if "\n" in label:
        return label
    words: list[str] = []
    for word in label.replace(" = ", "\u00a0=\u00a0").split(" "):  # never break around "="
        if words and words[-1].count("$") % 2:  # inside a formula: keep it in one piece
            words[-1] += " " + word
        else:
            words.append(word)
    lines = [""]
    for word in words:
        trial = f"{lines[-1]} {word}".strip()
        if lines[-1] and _visible_len(trial) * 0.56 * size_px > px:
            lines.append(word)
        else:
            lines[-1] = trial
    return "\n".join(lines).replace("\u00a0", " ")


def _visible_len(text: str) -> int:
    """About how many characters ``text`` shows (a formula's commands and braces take no room)."""
    return len(re.sub(r"\\[A-Za-z]+|[{}^_$]", "", text))


class FrameKey:
    """Rows of (handle, label) in their own axes at ``rect`` (figure fractions); ``entries`` are
    ``(name, label)``, a name being a vector, point or path of ``viz.draw.style`` (or a function that
    makes the handle's artists in the key's axes). At most ``MAX_ENTRIES`` rows."""

    def __init__(self, fig: Figure, rect: Sequence[float], entries: Sequence[Entry]) -> None:
        if len(entries) > MAX_ENTRIES:
            raise ValueError(f"a key holds at most {MAX_ENTRIES} entries, got {len(entries)}: "
                             f"{[label for _, label in entries]}")
        self.ax = ax = fig.add_axes(rect)
        ax.set_axis_off()
        w = rect[2] * fig.get_figwidth() * fig.dpi
        h = rect[3] * fig.get_figheight() * fig.dpi
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)  # rows from the top, in px
        self.rows = []
        for name, label in entries:
            artists = name(ax) if callable(name) else _handle(ax, name)
            text = ax.add_artist(TextSprite(text_pt("key"), gid=f"key:{label}"))
            text.set_text(label)
            self.rows.append((name if isinstance(name, str) else label, label, artists, text))
        self.visible: Optional[list[str]] = None  # no rows placed yet (``show`` fills it)
        self.show(name for name, *_ in self.rows)

    def names(self) -> list[str]:
        """Every entry's name, in order."""
        return [name for name, *_ in self.rows]

    def labels(self) -> list[str]:
        """Every entry's label, in order (what the key can show)."""
        return [label for _, label, *_ in self.rows]

    def shown(self) -> list[str]:
        """The labels the current frame shows."""
        return [label for name, label, *_ in self.rows if name in self.visible]

    def show(self, names: Iterable[str]) -> None:
        """Show the rows named in ``names`` (in the key's order, from the top), hide the rest."""
        want = set(names)
        if [name for name, *_ in self.rows if name in want] == self.visible:
            return  # the same rows as the frame before: they stand where they are
        self.visible = []
        y = ROW_PX / 2 + 2
        for name, _, artists, text in self.rows:
            on = name in want
            for a in (*artists, text):
                a.set_visible(on)
            if not on:
                continue
            self.visible.append(name)
            h = max(ROW_PX, text.size[1] + 4)  # a two-line label takes the room it needs
            _move(artists, 6, HANDLE_PX, y + (h - ROW_PX) / 2)
            text.place(*self.ax.transData.transform((HANDLE_PX + 14, y + (h - ROW_PX) / 2)), ha="left", va="center")
            y += h

    @staticmethod
    def height_px(rows: int, extra_lines: int = 0) -> float:
        """The height ``rows`` rows take (``extra_lines``: second lines of two-line labels)."""
        return rows * ROW_PX + extra_lines * 22 + 6


__all__ = ["FrameKey", "HANDLE_PX", "MAX_ENTRIES", "ROW_PX", "wrap_label"]
