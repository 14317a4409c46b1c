"""`trading-cli deploy`: TradingSessions on a cluster, from the command line.

    trading-cli deploy --model ppo-synthetic                 # paper, simulated broker
    trading-cli deploy --model ppo --broker alpaca --credentials-secret alpaca-paper
    trading-cli deploy --model ppo --broker alpaca --live \\
        --credentials-secret alpaca-live --confirm-live
    trading-cli deploy monitor --session-id ppo-paper        # refreshes until Ctrl-C
    trading-cli deploy monitor --session-id ppo-paper --dashboard   # the web console's page
    trading-cli deploy --model ppo --alerts slack --slack-webhook-secret slack-hook
    trading-cli deploy alerts --session-id ppo-paper --alerts email,slack \\
        --smtp-host smtp.example.com --alert-from bot@example.com --alert-to ops@example.com
    trading-cli deploy stop --session-id ppo-paper --wait --delete

`deploy` writes a TradingSession and leaves the checking of values to the API
server: the CRD is rendered from the models the operator reads, so a bad value
is refused with the field named, exactly as `kubectl apply` would refuse it.
Only the flags that put real money at stake are checked here first, so a
live session missing its credentials or its confirmation is never sent, and
the alert flags, so a channel missing its settings is named by the flag to add.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import typer
import yaml

from . import alert_options as ao
from .api_access import cluster, resource
from .dashboard import CONSOLE_URL, checked_base, open_page, page_url
from .output import OUTPUT_OPTION, Output
from .session_view import render_views, session_view
from .trade import BrokerChoice, FeedChoice, RiskProfile, set_present, split_symbols

if TYPE_CHECKING:  # lightkube loads only when a command talks to the cluster
    from lightkube import Client

KIND, PLURAL = "TradingSession", "tradingsessions"

app = typer.Typer(
    help="Run a Model as a TradingSession on the cluster; `monitor`, `alerts` and `stop` "
    "follow it.",
    invoke_without_command=True,
)


# --- the session a deploy asks for: pure ---------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What `deploy` was asked for; None leaves the CRD's default."""

    model: str
    live: bool = False
    broker: BrokerChoice = BrokerChoice.SIM
    exchange: str | None = None
    broker_url: str | None = None
    credentials_secret: str | None = None
    confirm_live: bool = False
    feed: FeedChoice | None = None
    symbols: tuple[str, ...] = ()
    interval: str | None = None
    bar_seconds: float | None = None
    cash: float | None = None
    risk_profile: RiskProfile | None = None
    max_drawdown: float | None = None
    max_daily_loss: float | None = None
    max_position_weight: float | None = None
    alerts: dict[str, Any] | None = None
    """`spec.alerts` as `alert_options.alerts_block` makes it; None: no alerts."""


def refusal(req: Request) -> str | None:
    """Why these flags must not be sent at all (None: send them)."""
    if req.live:
        if req.broker == BrokerChoice.SIM:
            return "--live needs a real venue: --broker alpaca or --broker ccxt"
        if not req.credentials_secret:
            return "--live needs --credentials-secret NAME (the Secret with the venue's API keys)"
        if not req.confirm_live:
            return "--live trades real money: add --confirm-live to confirm"
    elif req.confirm_live:
        return "--confirm-live goes with --live (this session would be paper)"
    if req.broker == BrokerChoice.CCXT and not req.exchange:
        return "--broker ccxt needs --exchange ID (binance, kraken, ...)"
    if req.exchange and req.broker != BrokerChoice.CCXT:
        return "--exchange goes with --broker ccxt"
    return None


def session_name(model: str, live: bool) -> str:
    """The default name: the model's, marked paper or live."""
    return f"{model}-{'live' if live else 'paper'}"


def _feed(req: Request) -> FeedChoice | None:
    # A venue's own prices by default: an Alpaca account traded on synthetic
    # bars would be a strange default. The simulated broker keeps the CRD's.
    if req.feed is not None or req.broker == BrokerChoice.SIM:
        return req.feed
    return FeedChoice(req.broker.value)


def session_manifest(name: str, req: Request) -> dict[str, Any]:
    """The TradingSession `req` asks for, camelCase as on the wire."""
    from ..api import API_VERSION

    broker = set_present({"type": req.broker.value}, exchange=req.exchange, url=req.broker_url)
    limits = set_present(
        {},
        maxDrawdown=req.max_drawdown,
        maxDailyLoss=req.max_daily_loss,
        maxPositionWeight=req.max_position_weight,
    )
    risk = set_present(
        {}, profile=req.risk_profile and req.risk_profile.value, limits=limits or None
    )
    spec = set_present(
        {"modelRef": {"name": req.model}, "mode": "live" if req.live else "paper"},
        confirmLive=True if req.live else None,
        credentialsSecretRef={"name": req.credentials_secret} if req.credentials_secret else None,
        broker=broker,
        feed=(feed := _feed(req)) and feed.value,
        symbols=list(req.symbols) or None,
        interval=req.interval,
        barSeconds=req.bar_seconds,
        initialCash=req.cash,
        risk=risk or None,
        alerts=set_present({}, **req.alerts) if req.alerts else None,
    )
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}


# --- the cluster ----------------------------------------------------------------------------


def get_session(client: Client, name: str, namespace: str) -> dict[str, Any]:
    """One TradingSession as a plain dict."""
    return dict(client.get(resource(KIND, PLURAL), name, namespace=namespace).to_dict())


def list_sessions(client: Client, namespace: str) -> list[dict[str, Any]]:
    """Every TradingSession of the namespace, by name."""
    found = [dict(o.to_dict()) for o in client.list(resource(KIND, PLURAL), namespace=namespace)]
    return sorted(found, key=lambda o: str(o["metadata"]["name"]))


# --- deploy -----------------------------------------------------------------------------------


NAMESPACE = typer.Option(
    None, "--namespace", "-n", help="Namespace; the kubeconfig context's by default."
)


@app.callback()
def deploy(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", "-m", help="The Model resource to trade."),
    name: str | None = typer.Option(
        None, "--name", help="Session name; <model>-paper or <model>-live by default."
    ),
    namespace: str | None = NAMESPACE,
    broker: BrokerChoice = typer.Option(BrokerChoice.SIM, help="Venue: sim, alpaca or ccxt."),
    exchange: str | None = typer.Option(None, help="ccxt exchange id, e.g. binance (ccxt only)."),
    broker_url: str | None = typer.Option(None, help="Override the venue's trading API URL."),
    live: bool = typer.Option(
        False, "--live/--paper-trading", help="Real money (--live) or paper (the default)."
    ),
    credentials_secret: str | None = typer.Option(
        None, help="Secret with the venue's keys (apiKey, apiSecret); required with --live."
    ),
    confirm_live: bool = typer.Option(
        False, "--confirm-live", help="Confirm that --live trades real money; required with it."
    ),
    feed: FeedChoice | None = typer.Option(
        None, help="Market data: synthetic, replay, alpaca or ccxt; the broker's venue by default."
    ),
    symbols: str | None = typer.Option(
        None, help="Comma-separated symbols; the model's symbols by default."
    ),
    interval: str | None = typer.Option(None, help="Bar interval: 1m, 5m, 15m, 1h or 1d."),
    bar_seconds: float | None = typer.Option(
        None, help="Seconds between synthetic or replay bars (fast-forward)."
    ),
    cash: float | None = typer.Option(None, help="Starting cash of the sim broker."),
    risk_profile: RiskProfile | None = typer.Option(
        None, help="Risk profile: conservative, moderate (the CRD's default) or aggressive."
    ),
    max_drawdown: float | None = typer.Option(
        None, help="Drawdown from peak equity that halts trading, e.g. 0.1."
    ),
    max_daily_loss: float | None = typer.Option(
        None, help="Loss from the day's opening equity that halts the day, e.g. 0.03."
    ),
    max_position_weight: float | None = typer.Option(
        None, help="Largest weight of one symbol in equity, e.g. 0.2."
    ),
    alerts: str | None = ao.ALERTS,
    slack_webhook_secret: str | None = ao.SLACK_WEBHOOK_SECRET,
    smtp_host: str | None = ao.SMTP_HOST,
    smtp_port: int | None = ao.SMTP_PORT,
    alert_from: str | None = ao.ALERT_FROM,
    alert_to: str | None = ao.ALERT_TO,
    smtp_credentials_secret: str | None = ao.SMTP_CREDENTIALS_SECRET,
    alert_min_severity: str | None = ao.ALERT_MIN_SEVERITY,  # the alert flags: ctx.params
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the TradingSession as YAML; send nothing."
    ),
) -> None:
    """Create a TradingSession trading --model, paper unless --live --confirm-live."""
    if ctx.invoked_subcommand is not None:
        _no_options_before(ctx)
        return
    if model is None:
        _refuse("deploy needs --model NAME (or a command: monitor, alerts, stop; see --help)")
    flags = ao.AlertFlags.of(ctx.params)
    req = Request(
        model=model,
        live=live,
        broker=broker,
        exchange=exchange,
        broker_url=broker_url,
        credentials_secret=credentials_secret,
        confirm_live=confirm_live,
        feed=feed,
        symbols=split_symbols(symbols),
        interval=interval,
        bar_seconds=bar_seconds,
        cash=cash,
        risk_profile=risk_profile,
        max_drawdown=max_drawdown,
        max_daily_loss=max_daily_loss,
        max_position_weight=max_position_weight,
        alerts=_alerts_or_refuse(flags, None) if flags.given() else None,
    )
    if (why := refusal(req)) is not None:
        _refuse(why)
    manifest = session_manifest(name or session_name(model, live), req)
    if dry_run:
        typer.echo(yaml.safe_dump(manifest, sort_keys=False), nl=False)
        return
    _create(manifest, namespace)


def _alerts_or_refuse(flags: ao.AlertFlags, current: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return ao.alerts_block(flags, current)
    except ao.AlertsError as err:
        _refuse(str(err))


def _refuse(why: str) -> NoReturn:
    typer.echo(f"error: {why}", err=True)
    raise typer.Exit(2)


def _no_options_before(ctx: typer.Context) -> None:
    # `deploy -n x monitor` would hand -n to deploy, not to monitor: say so
    # rather than monitor the wrong namespace.
    sources = {p: ctx.get_parameter_source(p) for p in ctx.params}
    given = [p for p, source in sources.items() if source is not None and source.name != "DEFAULT"]
    if given:
        flags = ", ".join("--" + p.replace("_", "-") for p in given)
        _refuse(f"{flags}: options go after the command (deploy {ctx.invoked_subcommand} --help)")


def _create(manifest: dict[str, Any], namespace: str | None) -> None:
    from lightkube import ApiError

    res, name = resource(KIND, PLURAL), manifest["metadata"]["name"]
    spec = manifest["spec"]
    with cluster() as client:
        ns = namespace or client.namespace
        client.create(res.from_dict(manifest), namespace=ns)
        typer.echo(
            f"tradingsession.kubetrade.io/{name} created in {ns}: {spec['mode']}, "
            f"broker {spec['broker']['type']}, model {spec['modelRef']['name']}"
        )
        try:
            client.get(resource("Model", "models"), spec["modelRef"]["name"], namespace=ns)
        except ApiError as err:
            if err.status.code != 404:
                raise
            typer.echo(
                f"warning: Model {spec['modelRef']['name']!r} not found in {ns}; "
                "the session waits until it exists and is Ready",
                err=True,
            )
    typer.echo(f"follow it: trading-cli deploy monitor --session-id {name} -n {ns}")


SESSION_ID = typer.Option(
    None, "--session-id", "--name", help="The TradingSession's name (all of them when omitted)."
)


@app.command()
def monitor(
    session_id: str | None = SESSION_ID,
    namespace: str | None = NAMESPACE,
    once: bool = typer.Option(False, "--once", help="Print once and exit instead of refreshing."),
    interval: float = typer.Option(2.0, min=0.2, help="Seconds between refreshes."),
    output: Output = OUTPUT_OPTION,
    dashboard: bool = typer.Option(
        False,
        "--dashboard",
        help="Open the web console at the session (the namespace without --session-id) "
        "instead; the URL is printed, a browser opened where there is one.",
    ),
    console_url: str = CONSOLE_URL,
) -> None:
    """Equity, PnL, risk, positions and health of a session, refreshed until Ctrl-C."""
    try:
        base = checked_base(console_url) if dashboard else ""
    except ValueError as err:
        _refuse(str(err))
    with cluster() as client:
        ns = namespace or client.namespace
        if dashboard:
            if session_id:  # a missing session is said here, not as the console's 404
                get_session(client, session_id, ns)
            open_page(page_url(base, ns, session_id))
            return

        def show() -> str:
            found = (
                [get_session(client, session_id, ns)] if session_id else list_sessions(client, ns)
            )
            views = [session_view(o, dt.datetime.now(dt.UTC)) for o in found]
            return render_views(views, output, single=session_id is not None)

        refresh(show, interval, once)


def refresh(show: Callable[[], str], interval: float, once: bool) -> None:
    """Print `show()` (on a cleared terminal) every `interval` seconds until Ctrl-C.

    A refresh the API server fails with a 429 or 5xx, or that cannot reach it,
    is reported and retried: a monitor should outlive a restarting API server.
    """
    import httpx2
    from lightkube import ApiError

    try:
        while True:
            try:
                text = show()
            except (ApiError, httpx2.TransportError) as err:
                code = (err.status.code or 0) if isinstance(err, ApiError) else 503
                if once or (code < 500 and code != 429):
                    raise
                typer.echo(f"refresh failed ({err}); retrying", err=True)
            else:
                if not once and sys.stdout.isatty():
                    typer.echo("\x1b[H\x1b[2J", nl=False)  # home, clear: redraw in place
                typer.echo(text, nl=False)
            if once:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        typer.echo("", err=True)


# --- alerts ---------------------------------------------------------------------------------


@app.command()
def alerts(
    ctx: typer.Context,
    session_id: str = typer.Option(..., "--session-id", "--name", help="The TradingSession."),
    namespace: str | None = NAMESPACE,
    alerts: str | None = ao.ALERTS,
    slack_webhook_secret: str | None = ao.SLACK_WEBHOOK_SECRET,
    smtp_host: str | None = ao.SMTP_HOST,
    smtp_port: int | None = ao.SMTP_PORT,
    alert_from: str | None = ao.ALERT_FROM,
    alert_to: str | None = ao.ALERT_TO,
    smtp_credentials_secret: str | None = ao.SMTP_CREDENTIALS_SECRET,
    alert_min_severity: str | None = ao.ALERT_MIN_SEVERITY,  # the alert flags: ctx.params
) -> None:
    """Show where a session's alerts go, or set them: --alerts email,slack (or none).

    A channel left out is switched off; a listed one keeps its settings unless a flag
    changes them. Alerts are part of the trader's config: the operator rolls the
    trader to it (a restart; it resumes from its trade store).
    """
    from lightkube.types import PatchType

    flags = ao.AlertFlags.of(ctx.params)
    if flags.given():
        try:  # what needs no session is refused before the cluster is asked
            ao.checked_channels(flags)
        except ao.AlertsError as err:
            _refuse(str(err))
    with cluster() as client:
        ns = namespace or client.namespace
        current = (get_session(client, session_id, ns).get("spec") or {}).get("alerts")
        if not flags.given():
            typer.echo(f"tradingsession.kubetrade.io/{session_id}: {ao.describe(current)}")
            return
        block = _alerts_or_refuse(flags, current)
        patched = client.patch(
            resource(KIND, PLURAL),
            session_id,
            {"spec": {"alerts": block}},
            namespace=ns,
            patch_type=PatchType.MERGE,
        )
    now = (patched.to_dict().get("spec") or {}).get("alerts")
    typer.echo(f"tradingsession.kubetrade.io/{session_id} alerts set: {ao.describe(now)}")


# --- stop -------------------------------------------------------------------------------------


def suspended(obj: Mapping[str, Any], generation: int) -> bool:
    """True once the operator has seen `generation` (or later) and says Suspended."""
    status = obj.get("status") or {}
    seen = status.get("observedGeneration")
    return status.get("phase") == "Suspended" and seen is not None and seen >= generation


def wait_for(
    get: Callable[[], Mapping[str, Any]],
    done: Callable[[Mapping[str, Any]], bool],
    timeout: float,
    interval: float = 1.0,
    report: Callable[[Mapping[str, Any]], None] | None = None,
) -> tuple[bool, Mapping[str, Any]]:
    """Poll `get` until `done` (True) or `timeout` seconds (False), with the last object;
    `report` sees every object whose phase or message changed."""
    deadline = time.monotonic() + timeout
    last: tuple[Any, Any] | None = None
    while True:
        obj = get()
        status = obj.get("status") or {}
        if report is not None and (status.get("phase"), status.get("message")) != last:
            last = (status.get("phase"), status.get("message"))
            report(obj)
        if done(obj):
            return True, obj
        if time.monotonic() >= deadline:
            return False, obj
        time.sleep(interval)


def _report(obj: Mapping[str, Any]) -> None:
    status = obj.get("status") or {}
    message = status.get("message")
    typer.echo(f"  {status.get('phase') or 'Unknown'}" + (f": {message}" if message else ""))


@app.command()
def stop(
    session_id: str = typer.Option(..., "--session-id", "--name", help="The TradingSession."),
    namespace: str | None = NAMESPACE,
    wait: bool = typer.Option(False, "--wait", help="Wait until the session is Suspended."),
    delete: bool = typer.Option(
        False, "--delete", help="Delete the session once it is Suspended (implies --wait)."
    ),
    timeout: float = typer.Option(300.0, min=0.0, help="Seconds --wait waits before failing."),
    poll: float = typer.Option(1.0, min=0.1, help="Seconds between checks while waiting."),
) -> None:
    """Set spec.suspend (the kill switch): the trader flattens, then it is scaled to zero."""
    from lightkube.types import PatchType

    res = resource(KIND, PLURAL)
    with cluster() as client:
        ns = namespace or client.namespace
        patched = client.patch(
            res, session_id, {"spec": {"suspend": True}}, namespace=ns, patch_type=PatchType.MERGE
        )
        typer.echo(
            f"tradingsession.kubetrade.io/{session_id} suspend requested: the trader "
            "flattens every position, then the operator scales it to zero"
        )
        if not (wait or delete):
            return
        generation = int(patched.metadata.generation or 0)
        done, final = wait_for(
            lambda: get_session(client, session_id, ns),
            lambda obj: suspended(obj, generation),
            timeout,
            poll,
            _report,
        )
        if not done:
            phase = (final.get("status") or {}).get("phase") or "Unknown"
            kept = "; the session was not deleted" if delete else ""
            typer.echo(
                f"error: still {phase} after {timeout:g}s (is the operator running?){kept}",
                err=True,
            )
            raise typer.Exit(1)
        if _flatten_timed_out(final):
            # Scaled to zero without a flat report: the venue may still hold
            # positions, and the session is the record of them. A person decides.
            kept = "; not deleted: check the venue, then kubectl delete it" if delete else ""
            typer.echo(f"warning: the trader never reported flat positions{kept}", err=True)
            raise typer.Exit(1 if delete else 0)
        if delete:
            client.delete(res, session_id, namespace=ns)
            typer.echo(f"tradingsession.kubetrade.io/{session_id} deleted")


def _flatten_timed_out(obj: Mapping[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(
        c.get("type") == "Suspended" and c.get("reason") == "FlattenTimedOut" for c in conditions
    )
