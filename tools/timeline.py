"""The scheduling timeline of a scenario run as a PNG (issue 5, item 12: "a timeline
of which VM ran when").

One row per VM (in VM order), one bar per ``@sched`` interval, x in microseconds (the
``@ticks_per_us`` timebase; raw ticks when it is missing). Gaps are the hypervisor and
idle. VM colours are ``tools.hvrun.VM_COLOURS``, the console palette. matplotlib is
imported only here, with the Agg canvas (no display needed).
"""

from __future__ import annotations

from pathlib import Path

from tools.hvrun import ScenarioResult, vm_colour

#: Height of a bar within its row (rows are 1 apart).
BAR_HEIGHT = 0.6
#: Resolution of the PNG.
DPI = 120


class TimelineError(RuntimeError):
    """The timeline cannot be drawn or written; one line."""


def _rows(result: ScenarioResult) -> list[tuple[str, int]]:
    """(VM name, colour index) per row, top row first."""
    names = result.vm_names()
    index = {name: s.index for name, s in result.stats.items() if s.index >= 0}
    return [(name, index.get(name, i)) for i, name in enumerate(names)]


def draw_timeline(result: ScenarioResult, path: str | Path) -> Path:
    """Draw which VM ran when (from ``result.sched``) into the PNG ``path``."""
    path = Path(path)
    if not result.sched:
        raise TimelineError(f"{path}: nothing to draw: the output has no @sched records "
                            f"(the run ended before the firmware printed them)")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = _rows(result)
    scale = result.ticks_per_us or 1
    share = result.cpu_share()
    fig = Figure(figsize=(10, 1.2 + 0.5 * len(rows)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for row, (name, colour_index) in enumerate(rows):
        bars = [(s / scale, (e - s) / scale) for s, e, n in result.sched if n == name]
        ax.broken_barh(bars, (row - BAR_HEIGHT / 2, BAR_HEIGHT),
                       facecolors=vm_colour(colour_index))
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{n} ({share.get(n, 0.0):.1f}%)" for n, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("time since boot (µs)" if result.ticks_per_us else "time since boot (ticks)")
    ax.set_title(f"{result.scenario or 'scenario'} on {result.platform}: which VM ran when")
    ax.grid(axis="x", alpha=0.3)
    try:
        fig.savefig(path, format="png", dpi=DPI)
    except OSError as exc:
        raise TimelineError(f"cannot write timeline {path}: {exc.strerror or exc}") from None
    return path
