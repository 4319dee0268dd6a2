"""``pykeepalived --status --history --svg FILE``: each virtual router's state over time.

One band per instance, from the daemon's start (as far back as the kept history reaches) to
now, coloured by state, with each failover's gap (the time with no master) marked on it and
written out in its tooltip. The picture is built from the same status reply as the history
table, so it shows what the table says: a plain SVG file (no dependency), for an incident
report or a web page.
"""

from __future__ import annotations

import time
from typing import Any
from xml.sax.saxutils import escape, quoteattr

COLOURS = {
    "MASTER": "#2e7d32", "BACKUP": "#1565c0", "FAULT": "#c62828", "INIT": "#9e9e9e",
    "STOP": "#616161",
}
OTHER = "#bdbdbd"
GAP = "#ff8f00"
LABEL_WIDTH = 170  # px for the instance's name
PLOT_WIDTH = 760
BAND = 22
ROW = 40
TOP = 30


def _spans(inst: dict[str, Any], now: float) -> tuple[float, list[tuple[float, float, str]]]:
    """The instance's states as (start, end, state), wall clock, oldest first, and where the
    band begins."""
    life = float(inst.get("availability", {}).get("life_seconds") or 0.0)
    transitions = inst.get("history", {}).get("transitions", [])
    began = now - life
    if transitions:
        began = min(began, float(transitions[0]["wall"]))
    spans: list[tuple[float, float, str]] = []
    at, state = began, str(transitions[0]["old"]) if transitions else str(inst["state"])
    for t in transitions:
        wall = float(t["wall"])
        spans.append((at, wall, state))
        at, state = wall, str(t["new"])
    spans.append((at, now, state))
    return began, [s for s in spans if s[1] > s[0]]


def render_svg(replies: dict[str, dict[str, Any] | str], now: float | None = None) -> str:
    """The SVG document for a ``--status --history`` reply (``now``: the wall clock)."""
    now = time.time() if now is None else now
    vrrp = replies.get("vrrp")
    instances = vrrp.get("instances", []) if isinstance(vrrp, dict) else []
    rows = [(inst, *_spans(inst, now)) for inst in instances]
    start = min((began for _, began, _ in rows), default=now - 1.0)
    scale = PLOT_WIDTH / max(now - start, 1e-3)
    height = TOP + ROW * max(len(rows), 1) + 40
    width = LABEL_WIDTH + PLOT_WIDTH + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<text x="4" y="18" font-weight="bold">VRRP state, '
           f'{escape(_stamp(start))} to {escape(_stamp(now))}</text>']
    if not isinstance(vrrp, dict):
        out.append(f'<text x="4" y="{TOP + 16}">VRRP: not running '
                   f'({escape(str(vrrp))})</text>')

    def x(wall: float) -> float:
        return LABEL_WIDTH + (wall - start) * scale

    for i, (inst, _, spans) in enumerate(rows):
        y = TOP + i * ROW
        name = f"{inst['name']} (VRID {inst['vrid']})"
        out.append(f'<text x="4" y="{y + BAND - 6}">{escape(name)}</text>')
        for begin, end, state in spans:
            out.append(
                f'<rect class="state" data-state={quoteattr(state)} x="{x(begin):.2f}" '
                f'y="{y}" width="{max((end - begin) * scale, 0.5):.2f}" height="{BAND}" '
                f'fill="{COLOURS.get(state, OTHER)}"><title>{escape(state)} from '
                f'{escape(_stamp(begin))} for {end - begin:.3f} s</title></rect>')
        for gap in inst.get("history", {}).get("gaps", []):
            end, seconds = float(gap["wall_end"]), float(gap["seconds"])
            if end < start:
                continue
            planned = " (planned hand-over)" if gap.get("planned") else ""
            out.append(
                f'<rect class="gap" x="{x(end - seconds):.2f}" y="{y + BAND}" '
                f'width="{max(seconds * scale, 2.0):.2f}" height="5" fill="{GAP}">'
                f'<title>no master for {seconds * 1000:.1f} ms{planned}, ended '
                f'{escape(_stamp(end))}</title></rect>')
    legend_y = height - 14
    for j, (state, colour) in enumerate([*COLOURS.items(), ("gap without master", GAP)]):
        lx = LABEL_WIDTH + j * 110
        out.append(f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" '
                   f'fill="{colour}"/><text x="{lx + 16}" y="{legend_y}">{escape(state)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _stamp(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))
