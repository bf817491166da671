"""The scorecard as a plain-text table for the terminal."""

from __future__ import annotations

from typing import Any

__all__ = ["format_value", "format_scorecard"]


def format_value(value: float | None, unit: str) -> str:
    """A value for display: shares as percentages, other units with 2 decimals.

    Examples
    --------
    >>> format_value(0.8766, "share"), format_value(1.2, "ratio"), format_value(None, "share")
    ('87.7%', '1.20', '-')
    """
    if value is None:
        return "-"
    if unit == "share":
        return f"{100 * value:.1f}%"
    return f"{value:,.2f}"


def _target(t: dict[str, Any] | None, unit: str) -> str:
    if not t:
        return ""
    year = f" by {t['year']}" if t.get("year") else ""
    return f"{t['op']} {format_value(t['value'], unit)}{year}"


def _met(m: bool | None) -> str:
    return {True: "yes", False: "NO", None: ""}[m]


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for j, r in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def format_scorecard(summary: dict[str, Any]) -> str:
    """The city scorecard and the district values of every targeted indicator."""
    scenario = "scenario" in summary  # a scenario run: the baseline beside the city value
    head = ["analysis", "indicator", "city", "target", "met", "districts meeting"]
    if scenario:
        head[2:2] = ["baseline"]
    rows = [head]
    targeted: list[tuple[str, str, dict[str, Any]]] = []
    for name, a in summary["analyses"].items():
        for key, ind in a["indicators"].items():
            t = ind["target"]
            n_met = sum(1 for d in ind["districts"].values() if d["met"])
            row = [
                name,
                key,
                format_value(ind["city"]["value"], ind["unit"]),
                _target(t, ind["unit"]),
                _met(ind["city"]["met"]),
                f"{n_met}/{len(ind['districts'])}" if t and ind["districts"] else "",
            ]
            if scenario:
                row[2:2] = [format_value(ind["city"].get("baseline"), ind["unit"])]
            rows.append(row)
            if t and ind["districts"]:
                targeted.append((name, key, ind))
    right = {2, 3, 6} if scenario else {2, 5}
    title = f"Scorecard: {summary['workspace']}"
    if scenario:
        title += f", scenario {summary['scenario']['name']!r} (baseline beside the city value)"
    lines = [title, "", *_table(rows, right)]
    if targeted:
        districts = sorted({d for _, _, ind in targeted for d in ind["districts"]})
        rows2 = [["indicator", "target", *districts]]
        for name, key, ind in targeted:
            row = [f"{name}.{key}", _target(ind["target"], ind["unit"])]
            for d in districts:
                v = ind["districts"].get(d, {"value": None, "met": None})
                flag = "" if v["met"] is None else ("" if v["met"] else " NO")
                row.append(format_value(v["value"], ind["unit"]) + flag)
            rows2.append(row)
        lines += [
            "",
            "Districts (targeted indicators; NO = short of the target)",
            "",
            *_table(rows2, set(range(2, len(districts) + 2))),
        ]
    return "\n".join(lines)
