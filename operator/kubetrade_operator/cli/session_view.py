"""What `trading-cli deploy monitor` shows of a TradingSession: a flat view of its
status, and that view as terminal text or JSON/YAML. Pure functions, no cluster."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from .output import Output, render

# The status a condition has when all is well; any other status is shown.
HEALTHY = {"Ready": "True", "RiskBreached": "False", "Reconciled": "True", "Suspended": "False"}


def seconds_since(stamp: str | None, now: dt.datetime) -> float | None:
    """Seconds from an RFC 3339 time to `now` (None without a time)."""
    if not stamp:
        return None
    then = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return round((now - then).total_seconds(), 1)


def unhealthy(conditions: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The conditions not in their healthy status (an unknown type is healthy when True)."""
    keys = ("type", "status", "reason", "message")
    return [
        {k: c.get(k) for k in keys}
        for c in conditions or []
        if c.get("status") != HEALTHY.get(str(c.get("type")), "True")
    ]


def session_view(obj: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """What `deploy monitor` shows of a TradingSession, as one flat record."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    status = obj.get("status") or {}
    trading, limits = status.get("trading") or {}, status.get("effectiveLimits") or {}
    fields = ("equity", "cash", "dayPnl", "totalPnl", "drawdown", "var", "ordersToday")
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "phase": status.get("phase") or "Unknown",
        "observed": status.get("observedGeneration") == meta.get("generation"),
        "mode": spec.get("mode", "paper"),
        "broker": (spec.get("broker") or {}).get("type", "sim"),
        "model": (spec.get("modelRef") or {}).get("name"),
        "suspend": bool(spec.get("suspend")),
        **{k: trading.get(k) for k in fields},
        "maxDrawdown": limits.get("maxDrawdown"),
        "maxVar": limits.get("maxVar"),
        "tradingState": trading.get("tradingState"),
        "breakerState": trading.get("breakerState"),
        "reconciled": trading.get("reconciled"),
        "positions": trading.get("positions") or [],
        "lastDecision": trading.get("lastDecision"),
        "heartbeat": trading.get("heartbeat"),
        "heartbeatAge": seconds_since(trading.get("heartbeat"), now),
        "error": trading.get("error"),
        "message": status.get("message") or "",
        "unhealthy": unhealthy(status.get("conditions")),
    }


def _money(value: Any, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+,.2f}" if sign else f"{value:,.2f}"


def _pct(value: Any, limit: Any = None) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" + (f" (limit {limit:.2%})" if limit is not None else "")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(max(seconds, 0))
    return f"{whole // 60}m{whole % 60:02d}s ago" if whole >= 60 else f"{whole}s ago"


def _positions(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    from .output import table

    if not rows:
        return ["Positions    none"]
    cells = [
        {
            "symbol": p.get("symbol"),
            "quantity": f"{p.get('quantity', 0):g}",
            "value": _money(p.get("marketValue")),
            "pnl": _money(p.get("unrealizedPnl"), sign=True),
        }
        for p in rows
    ]
    columns = [("symbol", "SYMBOL"), ("quantity", "QTY"), ("value", "VALUE"), ("pnl", "UNREAL")]
    return ["Positions", *("  " + line for line in table(cells, columns).splitlines())]


def render_view(view: Mapping[str, Any]) -> str:
    """A session's view as text for the terminal."""
    phase = view["phase"] if view["observed"] else f"{view['phase']} (stale)"
    reconciled = {True: "yes", False: "NO", None: "-"}[view["reconciled"]]
    lines = [
        f"TradingSession {view['namespace']}/{view['name']}   {phase}   "
        f"{view['mode']} · broker {view['broker']} · model {view['model']}"
        + ("   SUSPEND requested" if view["suspend"] and view["phase"] != "Suspended" else ""),
        f"Equity       {_money(view['equity'])}   cash {_money(view['cash'])}",
        f"PnL          day {_money(view['dayPnl'], True)}   total {_money(view['totalPnl'], True)}",
        f"Drawdown     {_pct(view['drawdown'], view['maxDrawdown'])}",
        f"VaR          {_pct(view['var'], view['maxVar'])}",
        f"Trading      {view['tradingState'] or '-'}   breaker {view['breakerState'] or '-'}"
        f"   reconciled {reconciled}",
        f"Orders today {view['ordersToday'] if view['ordersToday'] is not None else '-'}",
        f"Decision     {view['lastDecision'] or '-'}",
        f"Heartbeat    {_age(view['heartbeatAge'])}",
        *_positions(view["positions"]),
    ]
    if view["error"]:
        lines.append(f"Error        {view['error']}")
    if view["unhealthy"]:
        lines.append("Conditions")
        lines += [
            f"  {c['type']}={c['status']} {c['reason']}"
            + (f": {c['message']}" if c["message"] else "")
            for c in view["unhealthy"]
        ]
    return "\n".join(lines) + "\n"


def render_views(views: Sequence[Mapping[str, Any]], output: Output, single: bool) -> str:
    """Views as text, or whole as JSON/YAML (one object for one named session)."""
    if output == Output.TABLE:
        return "\n".join(render_view(v) for v in views) if views else "No TradingSessions.\n"
    if single and output == Output.JSON:
        return json.dumps(views[0], indent=2, default=str) + "\n"
    if single:
        return yaml.safe_dump(dict(views[0]), sort_keys=False, default_flow_style=False)
    return render(views, output, [])
