"""The trade store's first schema, and TimescaleDB hypertables where the extension exists.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
TIME = sa.DateTime(timezone=True)
SESSION = sa.String(253)
# Hypertables partition by time; their primary keys already include it.
HYPERTABLES = {"equity_curve": "time", "decisions": "bar_time"}


def upgrade() -> None:
    """Create every table; on Postgres, try TimescaleDB for the time series."""
    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.String(64), primary_key=True),
        sa.Column("session_id", SESSION, nullable=False, index=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("limit_price", sa.Float, nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("bar_time", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("broker_order_id", sa.String(64), nullable=True),
        sa.Column("filled_quantity", sa.Float, nullable=False),
        sa.Column("average_price", sa.Float, nullable=True),
        sa.Column("commission", sa.Float, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "fills",
        sa.Column("fill_id", sa.String(128), primary_key=True),
        sa.Column("client_order_id", sa.String(64), nullable=False, index=True),
        sa.Column("session_id", SESSION, nullable=False, index=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("commission", sa.Float, nullable=False),
        sa.Column("filled_at", TIME, nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
    )
    op.create_table(
        "positions",
        sa.Column("session_id", SESSION, primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("average_price", sa.Float, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("session_id", SESSION, primary_key=True),
        sa.Column("broker", sa.String(32), nullable=False),
        sa.Column("initial_cash", sa.Float, nullable=False),
        sa.Column("cash", sa.Float, nullable=False),
        sa.Column("realised_pnl", sa.Float, nullable=False),
        sa.Column("commissions", sa.Float, nullable=False),
        sa.Column("peak_equity", sa.Float, nullable=False),
        sa.Column("day", sa.Date, nullable=True),
        sa.Column("day_start_equity", sa.Float, nullable=False),
        sa.Column("last_bar_time", TIME, nullable=True),
        sa.Column("baseline", sa.JSON, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "equity_curve",
        sa.Column("session_id", SESSION, primary_key=True),
        sa.Column("time", TIME, primary_key=True),
        sa.Column("equity", sa.Float, nullable=False),
        sa.Column("cash", sa.Float, nullable=False),
        sa.Column("gross_exposure", sa.Float, nullable=False),
        sa.Column("drawdown", sa.Float, nullable=False),
        sa.Column("day_pnl", sa.Float, nullable=False),
        sa.Column("total_pnl", sa.Float, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("session_id", SESSION, primary_key=True),
        sa.Column("bar_time", TIME, primary_key=True),
        sa.Column("decided_at", TIME, nullable=False),
        sa.Column("trading_state", sa.String(16), nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "risk_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", SESSION, nullable=False, index=True),
        sa.Column("time", TIME, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
    )
    op.create_table(
        "config_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", SESSION, nullable=False, index=True),
        sa.Column("time", TIME, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _hypertables()


def _hypertables() -> None:
    bind = op.get_bind()
    # A savepoint: a failed CREATE EXTENSION must not abort the migration's transaction.
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except sa.exc.DBAPIError as err:
        savepoint.rollback()
        log.info("TimescaleDB is not available (%s); time series stay plain tables", err.orig)
        return
    savepoint.commit()
    for table, column in HYPERTABLES.items():
        bind.execute(
            sa.text("SELECT create_hypertable(:table, :column, if_not_exists => TRUE)"),
            {"table": table, "column": column},
        )


def downgrade() -> None:
    """Drop every table (data included)."""
    for table in (
        "config_changes",
        "risk_events",
        "decisions",
        "equity_curve",
        "accounts",
        "positions",
        "fills",
        "orders",
    ):
        op.drop_table(table)
