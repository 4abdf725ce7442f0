"""The look every figure shares: the palette and each channel's colour and line style, the funnel stages'
colours, reference marks, axis helpers, and :func:`save_figure`.

A channel keeps its colour in every figure: :func:`channel_colors` colours by position in the channel order
(the scenario's order, which curves and plans keep). Owns no figure of its own and reads no result.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from mixsim._files import write_atomic
from mixsim.errors import InputError

__all__ = [
    "CURRENT",
    "PALETTE",
    "PLANNED",
    "STAGE_COLORS",
    "TRUTH",
    "channel_colors",
    "channel_order",
    "channel_styles",
    "escape_dollars",
    "money_axis",
    "note",
    "save_figure",
]

# Okabe & Ito (2008), "Color Universal Design (CUD): how to make figures and presentations that are friendly to
# colorblind people", https://jfly.uni-koeln.de/color/. Distinguishable under the common colour-vision
# deficiencies. Black is kept back for reference marks (planned spend, break-even); yellow goes last because it
# is the hardest to see on white.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)
"""Channel colours, in the order channels take them."""

# Stages are an ordered scale, not categories like channels: one hue (blue) getting darker down the funnel,
# from a near-white grey for the unaware. Told apart by lightness alone, so they survive greyscale printing and
# never clash with a channel's colour.
STAGE_COLORS: dict[str, str] = {
    "unaware": "#D9D9D9",
    "aware": "#9ECAE1",
    "considering": "#4292C6",
    "converted": "#08306B",
}
"""Fixed colour per funnel stage (light to dark down the funnel)."""

# Past the palette, colours repeat: each further round changes the line style (and a bar's hatch) instead, so
# two channels never look alike.
_LINESTYLES = ("-", "--", "-.", ":")
_HATCHES = ("", "//", "..", "xx")

# Reference marks, in greys and black so they never pass for a channel.
CURRENT = "0.4"
"""The current plan: grey, dashed."""
PLANNED = "black"
"""The optimized plan: black, solid."""
TRUTH = "black"
"""The counterfactual truth: black, like the other reference marks."""
_MONEY = StrMethodFormatter("{x:,.0f}")  # whole dollars, thousands separated


def channel_colors(channels: Sequence[str]) -> dict[str, str]:
    """A colour per channel, by its position in ``channels``: the same channel order gives the same colours.

    Parameters
    ----------
    channels : sequence of str
        Channel names in the scenario's order (``Scenario.channel_names``, ``SimulationResult.channels``,
        ``CurveSet.channels``).

    Returns
    -------
    dict of str to str
        Hex colour per channel, from :data:`PALETTE` (Okabe-Ito). Beyond its seven colours the palette repeats
        and the figures tell the channels apart by line style and hatch.
    """
    colors: dict[str, str] = {}
    for i, name in enumerate(channels):
        colors.setdefault(name, PALETTE[i % len(PALETTE)])
    return colors


def channel_styles(channels: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``(line style, hatch)`` per channel: plain for the first round of the palette, varied after."""
    styles: dict[str, tuple[str, str]] = {}
    for i, name in enumerate(channels):
        k = (i // len(PALETTE)) % len(_LINESTYLES)
        styles.setdefault(name, (_LINESTYLES[k], _HATCHES[k]))
    return styles


def channel_order(own: Sequence[str], order: Sequence[str] | None) -> tuple[str, ...]:
    """The channel order colours follow: ``order`` if given, else ``own``.

    Raises
    ------
    InputError
        If ``order`` misses one of ``own``'s channels.
    """
    if order is None:
        return tuple(own)
    missing = [name for name in own if name not in order]
    if missing:
        raise InputError(f"order: no position for channel(s) {', '.join(missing)} (got {list(order)})")
    return tuple(order)


def escape_dollars(text: str) -> str:
    """Text with literal dollar signs (two unescaped ``$`` would switch matplotlib to math mode)."""
    return text.replace("$", r"\$")


def money_axis(axis: Axis) -> None:
    """Tick labels in whole dollars with thousands separated."""
    axis.set_major_formatter(_MONEY)


def note(ax: Axes, text: str) -> None:
    """A grey note in the middle of an axes that has nothing to show (and says why)."""
    ax.text(0.5, 0.5, escape_dollars(text), transform=ax.transAxes, ha="center", va="center", color="0.4")


# Dates in the metadata would make every save of the same figure differ.
_METADATA: dict[str, dict[str, Any]] = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}


def save_figure(
    fig: Figure,
    path_without_suffix: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    dpi: float = 150,
) -> list[Path]:
    """Save ``fig`` once per format, each file written atomically (rendered in memory, then renamed into place).

    Parameters
    ----------
    fig : Figure
        The figure; it is left open (the caller owns it).
    path_without_suffix : path-like
        Where to write, without the suffix: ``out/curves`` gives ``out/curves.png``. Missing folders are made.
    formats : sequence of str, default=("png",)
        Formats matplotlib can write (``png``, ``svg``, ``pdf``, ...).
    dpi : float, default=150
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Raises
    ------
    InputError
        For a format matplotlib cannot write (before anything is written).
    """
    if isinstance(formats, str):
        formats = (formats,)
    supported = fig.canvas.get_supported_filetypes()
    for fmt in formats:
        if fmt.lower() not in supported:
            raise InputError(f"unknown figure format {fmt!r}; choose from {', '.join(sorted(supported))}")
    base = os.fspath(path_without_suffix)
    written = []
    for fmt in formats:
        fmt = fmt.lower()
        buffer = io.BytesIO()
        options: dict[str, Any] = {}
        if fmt in _METADATA:
            options["metadata"] = _METADATA[fmt]
        # A fixed salt keeps SVG element ids the same from one save to the next. A tight box keeps any text the
        # layout could not fit (a long label) in the file rather than cut at the figure's edge.
        with matplotlib.rc_context({"svg.hashsalt": "mixsim"}):
            fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight", **options)
        written.append(write_atomic(f"{base}.{fmt}", buffer.getvalue()))
    return written
