"""Inline SVG charts for the yearly report page, drawn in Python (no scripts, fonts or network).

Every text that comes from data goes through `escape`; every bar and band carries `data-*` attributes with
the figure it shows, so tests can read the charts back. A withheld cell is drawn as a dashed outline with
the word "withheld" and never as a zero-length bar.

Labels may be plain strings (place names, the same in every language) or `{lang: text}` dicts; a dict is
drawn once per language with class `l-<lang>`, and the page's CSS shows only the chosen language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

Label = str | Mapping[str, str]

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif'
INK = "#1f2933"
MUTED = "#52606d"
GRID = "#e4e7eb"
WITHHELD = "#9aa5b1"
PALETTE = (
    "#0f766e",
    "#d97706",
    "#2563eb",
    "#dc2626",
    "#65a30d",
    "#9333ea",
    "#db2777",
    "#854d0e",
    "#475569",
    "#0891b2",
    "#be123c",
    "#4d7c0f",
)
WITHHELD_TEXT = {"en": "withheld", "sw": "imezuiliwa"}
HALO = ' stroke="#fff" stroke-width="3.5" paint-order="stroke" stroke-linejoin="round"'


def fmt(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def _text_width(text: str, size: float) -> float:
    """A rough width of text in the system sans-serif, enough to keep labels inside the picture."""
    return len(text) * size * 0.6  # DejaVu Sans, a common fallback, averages about 0.6 em


def _truncate(text: str, size: float, max_width: float) -> str:
    if _text_width(text, size) <= max_width:
        return text
    keep = max(int(max_width / (size * 0.6)) - 1, 3)
    return text[:keep].rstrip() + "…"


def label_text(label: Label, lang: str) -> str:
    if isinstance(label, str):
        return label
    return label.get(lang) or next(iter(label.values()))


def _svg_text(
    label: Label,
    langs: Sequence[str],
    *,
    x: float,
    y: float,
    size: float = 12,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
    max_width: float | None = None,
    extra: str = "",
    suffix: str = "",
) -> str:
    """One <text> per language when the label differs between languages, else a single one. `suffix`
    (plain text, e.g. a count) follows the label in a lighter style and is never truncated."""
    texts = {lang: label_text(label, lang) for lang in langs}
    variants = [(None, texts[langs[0]])] if len(set(texts.values())) == 1 else list(texts.items())
    out = []
    for lang, text in variants:
        full = text
        if max_width is not None:
            wide = size * (1.12 if weight not in ("normal", "400") else 1)  # bold runs wider
            text = _truncate(text, wide, max_width - _text_width(suffix, size))
        cls = f' class="l-{lang}"' if lang else ""
        tip = f"<title>{escape(full)}</title>" if text != full else ""
        tail = f'<tspan fill="{MUTED}" font-weight="normal">{escape(suffix)}</tspan>' if suffix else ""
        out.append(
            f'<text{cls} x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"'
            f' font-weight="{weight}"{extra}>{tip}{escape(text)}{tail}</text>'
        )
    return "".join(out)


def _withheld_word(langs: Sequence[str], **kw: object) -> str:
    return _svg_text({lang: WITHHELD_TEXT[lang] for lang in langs}, langs, **kw)  # type: ignore[arg-type]


def _open_svg(
    chart_id: str, width: float, height: float, title: Label, langs: Sequence[str], cls: str = "chart"
) -> str:
    aria = escape(label_text(title, langs[0]))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" data-chart="{escape(chart_id)}" role="img"'
        f' aria-label="{aria}" viewBox="0 0 {width:.0f} {height:.0f}" width="100%"'
        f" style=\"max-width:{width:.0f}px\" font-family='{FONT}'><title>{aria}</title>"
    )


@dataclass
class Bar:
    key: str
    label: Label
    value: int | None  # None = withheld
    prev: int | None = None  # previous year's figure, when published
    colour: str = PALETTE[0]
    note: Label | None = None  # small text after the label (e.g. the former province)


NARROW_WIDTH = 280  # a chart for a phone: shown 1:1 in a card on a 360 px screen (284 px inside)


def bar_chart(
    chart_id: str,
    bars: Sequence[Bar],
    langs: Sequence[str],
    *,
    title: Label,
    width: int = 520,
    label_width: int = 170,
    row: int = 24,
    prev_year: int | None = None,
    narrow: bool = False,
) -> Markup:
    """Horizontal bars, one per cell, with the figure at the end of the bar and an optional tick for the
    previous year's figure. Withheld cells keep their row and say "withheld". `narrow`: for a phone, each
    label on a line of its own above its bar, the chart NARROW_WIDTH wide, so that it is not shrunk to an
    unreadable size (the page shows one layout or the other by the screen's width)."""
    with_prev = prev_year is not None and any(b.prev is not None and b.value is not None for b in bars)
    if narrow:
        width, label_width, row = NARROW_WIDTH, 0, 36
    top, bottom = 4, 24 if with_prev else 4
    height = top + row * max(len(bars), 1) + bottom
    plot_x = label_width + 8 if label_width else 1
    vmax = max([b.value or 0 for b in bars] + [b.prev or 0 for b in bars if b.value is not None] + [1])
    plot_w = width - plot_x - max(48, _text_width(fmt(vmax), 12.5) + 10)  # room for the largest figure
    bar_top, bar_h = (17, row - 21) if narrow else (4, row - 8)  # narrow: the label's line above the bar
    parts = [_open_svg(chart_id, width, height, title, langs, "chart narrow" if narrow else "chart")]
    parts.append(
        f'<line x1="{plot_x}" x2="{plot_x}" y1="{top}" y2="{top + row * len(bars)}" stroke="{GRID}" stroke-width="1"/>'
    )
    for i, b in enumerate(bars):
        y = top + i * row
        mid = y + bar_top + bar_h / 2 + 4
        parts.append(
            f'<g class="bar" data-key="{escape(b.key)}" '
            + (f'data-cases="{b.value}"' if b.value is not None else 'data-withheld="true"')
            + ">"
        )
        if narrow:
            parts.append(_svg_text(b.label, langs, x=plot_x + 4, y=y + 13, max_width=width - plot_x - 4))
        else:
            parts.append(_svg_text(b.label, langs, x=label_width, y=mid, anchor="end", max_width=label_width - 4))
        if b.value is not None:
            w = max(plot_w * b.value / vmax, 1.5)
            end = plot_x + w
            parts.append(
                f'<rect x="{plot_x}" y="{y + bar_top}" width="{w:.1f}" height="{bar_h}" rx="2" '
                f'fill="{b.colour}"><title>{escape(label_text(b.label, langs[0]))}: '
                f"{fmt(b.value)}</title></rect>"
            )
            if b.prev is not None and prev_year is not None:
                px = plot_x + plot_w * b.prev / vmax
                parts.append(
                    f'<line class="prev" x1="{px:.1f}" x2="{px:.1f}" y1="{y + bar_top - (1 if narrow else 3)}" '
                    f'y2="{y + bar_top + bar_h + 3}" stroke="{INK}" stroke-opacity="0.65" stroke-width="1.75">'
                    f"<title>{prev_year}: {fmt(b.prev)}</title></line>"
                )
            parts.append(
                f'<text x="{end + 5:.1f}" y="{mid:.1f}" font-size="12" fill="{INK}" font-weight="600"'
                f"{HALO}>{fmt(b.value)}</text>"
            )
        else:
            parts.append(
                f'<rect x="{plot_x}" y="{y + bar_top + 1}" width="64" height="{bar_h - 2}" rx="2" fill="none" '
                f'stroke="{WITHHELD}" stroke-dasharray="3 2"/>'
            )
            parts.append(_withheld_word(langs, x=plot_x + 32, y=mid - 0.5, size=10.5, anchor="middle", fill=MUTED))
        parts.append("</g>")
    if with_prev:
        ly = top + row * len(bars) + 17
        parts.append(
            f'<line x1="{plot_x}" x2="{plot_x}" y1="{ly - 10}" y2="{ly + 2}" stroke="{INK}" stroke-width="2"/>'
        )
        parts.append(
            _svg_text(
                {"en": f"{prev_year} figure", "sw": f"takwimu ya {prev_year}"},
                langs,
                x=plot_x + 6,
                y=ly,
                size=11,
                fill=MUTED,
            )
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass
class Flow:
    key: str
    origin: Label
    via: Label  # joined transit names, or "" for a direct route
    destination: Label
    cases: int


def _same(label: Label) -> Label | tuple[tuple[str, str], ...]:
    """A label as a node's key (a dict is not hashable): one node per place, whatever its names."""
    return label if isinstance(label, str) else tuple(sorted(label.items()))


@dataclass
class _Node:
    column: int
    name: Label
    total: int = 0
    y: float = 0.0
    h: float = 0.0
    out_used: float = 0.0
    in_used: float = 0.0
    colour: str = PALETTE[0]
    order: list = field(default_factory=list)


_CODE = re.compile(r"\(([A-Z0-9]{3,4})\)$")


def _short_via(via: str, size: float, max_width: float) -> str:
    """A transit chain that does not fit: airports by their code ("NBO → DOH"), the rest by name."""
    if _text_width(via, size) <= max_width:
        return via
    parts = [m.group(1) if (m := _CODE.search(p.strip())) else p.strip() for p in via.split(" → ")]
    return " → ".join(parts)


def flow_chart(
    chart_id: str,
    flows: Sequence[Flow],
    langs: Sequence[str],
    *,
    title: Label,
    width: int = 1000,
    height: int = 420,
    min_node: float = 16,
) -> Markup:
    """A Sankey-like diagram of routes: origin → transit → destination, band width ∝ cases.

    Small nodes are drawn at least `min_node` high so that every label has its own line; the bands keep
    their true width and sit in the middle of such a node.
    """
    direct: Label = {"en": "direct", "sw": "moja kwa moja"}
    nodes: dict[tuple[int, Any], _Node] = {}
    for f in flows:
        for col, name in ((0, f.origin), (1, f.via), (2, f.destination)):
            node = nodes.setdefault((col, _same(name)), _Node(col, name if (col != 1 or name) else direct))
            node.total += f.cases
    columns = {c: sorted((n for (col, _), n in nodes.items() if col == c), key=lambda n: -n.total) for c in range(3)}
    gap, top, bottom = 8, 26, 6
    total = sum(f.cases for f in flows) or 1

    def column_height(scale: float, col_nodes: list[_Node]) -> float:
        return sum(max(n.total * scale, min_node) for n in col_nodes) + gap * (len(col_nodes) - 1)

    avail = height - top - bottom
    scale = avail / total
    for _ in range(200):  # shrink until the fullest column fits (small nodes take min_node whatever the scale)
        if max(column_height(scale, v) for v in columns.values()) <= avail:
            break
        scale *= 0.97
    used = max(column_height(scale, v) for v in columns.values())
    height = int(max(height, top + used + bottom))
    node_w = 14
    label_room = 200
    xs = {0: label_room, 1: round(width * 0.42), 2: width - label_room - node_w}
    for c, col_nodes in columns.items():
        y = top + (height - top - bottom - column_height(scale, col_nodes)) / 2
        for i, n in enumerate(col_nodes):
            n.y, n.h = y, max(n.total * scale, min_node)
            n.out_used = n.in_used = (n.h - n.total * scale) / 2  # bands sit in the middle of the node
            n.colour = PALETTE[i % len(PALETTE)] if c == 0 else "#334155"
            y += n.h + gap

    parts = [_open_svg(chart_id, width, height, title, langs)]
    heads = ({"en": "Origin", "sw": "Asili"}, {"en": "Transit", "sw": "Kupitia"}, {"en": "Destination", "sw": "Mwisho"})
    for c, head in enumerate(heads):
        anchor = ("end", "start", "start")[c]
        hx = (xs[0] + node_w, xs[1], xs[2])[c]
        parts.append(_svg_text(head, langs, x=hx, y=14, size=12, anchor=anchor, fill=MUTED, weight="600"))

    def band(a: _Node, b: _Node, f: Flow, colour: str, seg: str) -> str:
        w = f.cases * scale
        y0 = a.y + a.out_used + w / 2
        y1 = b.y + b.in_used + w / 2
        a.out_used += w
        b.in_used += w
        x0, x1 = xs[a.column] + node_w, xs[b.column]
        mx = (x0 + x1) / 2
        tip = f"{label_text(a.name, langs[0])} → {label_text(b.name, langs[0])}: {fmt(f.cases)}"
        return (
            f'<path class="band" data-route="{escape(f.key)}" data-seg="{seg}" data-cases="{f.cases}" '
            f'd="M{x0:.1f},{y0:.1f} C{mx:.1f},{y0:.1f} {mx:.1f},{y1:.1f} {x1:.1f},{y1:.1f}" fill="none" '
            f'stroke="{colour}" stroke-opacity="0.4" stroke-width="{max(w, 1):.1f}">'
            f"<title>{escape(tip)}</title></path>"
        )

    # Order each node's bands by the other end's position, which keeps crossings few.
    def node(col: int, f: Flow) -> _Node:
        return nodes[(col, _same((f.origin, f.via, f.destination)[col]))]

    for f in sorted(flows, key=lambda f: (node(0, f).y, node(1, f).y)):
        parts.append(band(node(0, f), node(1, f), f, node(0, f).colour, "in"))
    for f in sorted(flows, key=lambda f: (node(1, f).y, node(2, f).y, node(0, f).y)):
        parts.append(band(node(1, f), node(2, f), f, node(0, f).colour, "out"))
    for (col, _), n in nodes.items():
        key = label_text(n.name, langs[0]) if (col != 1 or n.name != direct) else ""
        parts.append(
            f'<rect class="node" data-node="{escape(key)}" data-column="{col}" data-cases="{n.total}" '
            f'x="{xs[col]:.1f}" y="{n.y:.1f}" width="{node_w}" height="{n.h:.1f}" rx="1.5" '
            f'fill="{n.colour}"/>'
        )
        cy = n.y + n.h / 2 + 4
        count = f"  {fmt(n.total)}"
        if col == 0:
            parts.append(
                _svg_text(
                    n.name,
                    langs,
                    x=xs[0] - 6,
                    y=cy,
                    anchor="end",
                    weight="600",
                    max_width=label_room - 10,
                    suffix=count,
                )
            )
        elif col == 2:
            parts.append(
                _svg_text(
                    n.name, langs, x=xs[2] + node_w + 6, y=cy, weight="600", max_width=label_room - 10, suffix=count
                )
            )
        else:
            room = xs[2] - xs[1] - node_w - 30
            name = (
                _short_via(n.name, 11.5, room)
                if isinstance(n.name, str)
                else {lang: _short_via(text, 11.5, room) for lang, text in n.name.items()}
            )
            parts.append(
                _svg_text(name, langs, x=xs[1] + node_w + 5, y=cy, size=11.5, weight="600", max_width=room, extra=HALO)
            )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass
class Pair:
    key: str
    label: Label
    prev: int | None  # None: withheld (or absent) in the previous year
    cur: int | None


def dumbbell_chart(
    chart_id: str,
    pairs: Sequence[Pair],
    langs: Sequence[str],
    *,
    title: Label,
    years: tuple[int, int],
    width: int = 520,
    label_width: int = 150,
    row: int = 26,
    narrow: bool = False,
) -> Markup:
    """Previous year (hollow dot) to this year (filled dot) for each cell published in both years.
    `narrow`: for a phone, as bar_chart's, each label on a line of its own above its dots."""
    top, bottom = 28, 8
    if narrow:
        width, label_width, row = NARROW_WIDTH, 0, 38
    height = top + row * max(len(pairs), 1) + bottom
    plot_x, plot_w = (8, width - 118) if narrow else (label_width + 14, width - label_width - 124)
    vmax = max([p.prev or 0 for p in pairs] + [p.cur or 0 for p in pairs] + [1])
    parts = [_open_svg(chart_id, width, height, title, langs, "chart narrow" if narrow else "chart")]
    up, down = "#be123c", "#0f766e"
    parts.append(
        f'<circle cx="{plot_x + 4}" cy="12" r="5" fill="#fff" stroke="{MUTED}" stroke-width="2"/>'
        f'<text x="{plot_x + 14}" y="16" font-size="11" fill="{MUTED}">{years[0]}</text>'
        f'<circle cx="{plot_x + 64}" cy="12" r="5" fill="{INK}"/>'
        f'<text x="{plot_x + 74}" y="16" font-size="11" fill="{MUTED}">{years[1]}</text>'
    )
    for i, p in enumerate(pairs):
        y = top + i * row + (26 if narrow else row / 2)
        attrs = (
            f'data-key="{escape(p.key)}" data-prev="{"" if p.prev is None else p.prev}" '
            f'data-cur="{"" if p.cur is None else p.cur}"'
        )
        parts.append(f'<g class="pair" {attrs}>')
        if narrow:
            parts.append(_svg_text(p.label, langs, x=2, y=y - 11, max_width=width - 4))
        else:
            parts.append(_svg_text(p.label, langs, x=label_width, y=y + 4, anchor="end", max_width=label_width - 4))
        parts.append(f'<line x1="{plot_x}" x2="{plot_x + plot_w}" y1="{y}" y2="{y}" stroke="{GRID}"/>')
        if p.prev is not None and p.cur is not None:
            x0, x1 = plot_x + plot_w * p.prev / vmax, plot_x + plot_w * p.cur / vmax
            colour = up if p.cur > p.prev else down if p.cur < p.prev else MUTED
            parts.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="3"/>')
            parts.append(
                f'<circle cx="{x0:.1f}" cy="{y}" r="5" fill="#fff" stroke="{MUTED}" stroke-width="2">'
                f"<title>{years[0]}: {fmt(p.prev)}</title></circle>"
            )
            parts.append(
                f'<circle cx="{x1:.1f}" cy="{y}" r="5" fill="{INK}"><title>{years[1]}: {fmt(p.cur)}</title></circle>'
            )
            delta = p.cur - p.prev
            sign = "+" if delta > 0 else "−" if delta < 0 else "±"
            parts.append(
                f'<text x="{plot_x + plot_w + 8}" y="{y + 4}" font-size="12" font-weight="600" '
                f'fill="{colour}">{sign}{fmt(abs(delta))}</text>'
            )
        else:
            for value, year, filled in ((p.prev, years[0], False), (p.cur, years[1], True)):
                if value is not None:
                    x = plot_x + plot_w * value / vmax
                    fill = f'fill="{INK}"' if filled else f'fill="#fff" stroke="{MUTED}" stroke-width="2"'
                    parts.append(
                        f'<circle cx="{x:.1f}" cy="{y}" r="5" {fill}><title>{year}: {fmt(value)}</title></circle>'
                    )
            missing = "" if p.cur is None and p.prev is None else f"{years[1] if p.cur is None else years[0]}: "
            parts.append(
                _svg_text(
                    {lang: f"{missing}{WITHHELD_TEXT[lang]}" for lang in langs},
                    langs,
                    x=plot_x + plot_w + 8,
                    y=y + 4,
                    size=11,
                    fill=MUTED,
                )
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass
class Series:
    key: str
    label: Label
    values: Mapping[int, int | None]  # year -> figure; None = withheld; a year missing = no figures that year
    colour: str = PALETTE[0]


def trend_chart(
    chart_id: str,
    years: Sequence[int],
    series: Sequence[Series],
    langs: Sequence[str],
    *,
    title: Label,
    notes: Mapping[int, Label] | None = None,
    columns: int = 3,
    width: int = 1000,
    panel_height: int = 150,
    narrow: bool = False,
) -> Markup:
    """Small multiples, one panel per series, years on x, each panel on its own scale from zero (the figure
    is written at every point). A withheld year breaks the line and is drawn as a dashed column saying
    "withheld", never as zero; a year without figures breaks the line and draws nothing. `notes` go under
    the year labels (e.g. the organisations reporting that year). `narrow`: for a phone, as bar_chart's, at
    most two panels a row, NARROW_WIDTH wide."""
    if narrow:
        width, columns, panel_height = NARROW_WIDTH, min(columns, 2), 120
    years = list(years)
    columns = max(1, min(columns, len(series)))
    rows = -(-len(series) // columns)
    gap = 24
    panel_w = (width - gap * (columns - 1)) / columns
    axis_h = 34 if notes else 20
    head = 22 if len(series) > 1 else 0  # one panel: the figure's caption names it
    pad_x = 46 if notes else 26  # room for a note centred under the first and last year
    height = rows * (panel_height + axis_h) + (rows - 1) * 14 + 4
    parts = [_open_svg(chart_id, width, height, title, langs, "chart narrow" if narrow else "chart")]
    step = (panel_w - 2 * pad_x) / max(len(years) - 1, 1)
    for i, s in enumerate(series):
        x0 = (i % columns) * (panel_w + gap)
        y0 = (i // columns) * (panel_height + axis_h + 14)
        plot_top, plot_bottom = y0 + head + 16, y0 + panel_height - 4
        vmax = max([v for v in s.values.values() if v] + [1])

        def xy(year: int, value: int, x0=x0, plot_top=plot_top, plot_bottom=plot_bottom, vmax=vmax):
            x = x0 + pad_x + step * years.index(year) if len(years) > 1 else x0 + panel_w / 2
            return x, plot_bottom - (plot_bottom - plot_top) * value / vmax

        parts.append(f'<g class="series" data-series="{escape(s.key)}">')
        if head:
            parts.append(
                _svg_text(s.label, langs, x=x0, y=y0 + 14, size=12.5, weight="600", max_width=panel_w, extra=HALO)
            )
        parts.append(
            f'<line x1="{x0:.1f}" x2="{x0 + panel_w:.1f}" y1="{plot_bottom:.1f}" y2="{plot_bottom:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        run: list[tuple[float, float]] = []
        for year in [*years, None]:  # None closes the last run of published years
            value = s.values.get(year) if year is not None else None
            if year is None or value is None:
                if len(run) > 1:
                    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                    parts.append(f'<polyline points="{points}" fill="none" stroke="{s.colour}" stroke-width="2.5"/>')
                run = []
                continue
            run.append(xy(year, value))
        for year in years:
            if year not in s.values:
                continue
            value = s.values[year]
            x, _ = xy(year, 0)
            if value is None:
                w = min(step * 0.6, 40) if len(years) > 1 else 40
                parts.append(
                    f'<g class="trend-point" data-year="{year}" data-withheld="true">'
                    f'<rect x="{x - w / 2:.1f}" y="{plot_top:.1f}" width="{w:.1f}" height="{plot_bottom - plot_top:.1f}"'
                    f' rx="2" fill="none" stroke="{WITHHELD}" stroke-dasharray="3 2"><title>{year}: '
                    f"{escape(label_text(WITHHELD_TEXT, langs[0]))}</title></rect>"
                )
                mid = (plot_top + plot_bottom) / 2
                parts.append(
                    _withheld_word(
                        langs,
                        x=x + 3.5,
                        y=mid,
                        size=10,
                        anchor="middle",
                        fill=MUTED,
                        extra=f' transform="rotate(-90 {x + 3.5:.1f} {mid:.1f})"',
                    )
                )
                parts.append("</g>")
                continue
            x, y = xy(year, value)
            parts.append(
                f'<g class="trend-point" data-year="{year}" data-value="{value}">'
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.colour}"><title>{year}: {fmt(value)}</title>'
                f'</circle><text x="{x:.1f}" y="{y - 7:.1f}" font-size="11" text-anchor="middle" fill="{INK}"'
                f' font-weight="600"{HALO}>{fmt(value)}</text></g>'
            )
        for year in years:
            x, _ = xy(year, 0)
            parts.append(
                f'<text x="{x:.1f}" y="{plot_bottom + 14:.1f}" font-size="11" text-anchor="middle" '
                f'fill="{MUTED}">{year}</text>'
            )
            if notes and year in notes:
                parts.append(
                    _svg_text(notes[year], langs, x=x, y=plot_bottom + 28, size=10, anchor="middle", fill=MUTED)
                )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
