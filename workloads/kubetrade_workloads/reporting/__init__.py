"""Reports: what a backtest or a return series looks like, as charts, an HTML
page and a PDF. Stands on `backtest.metrics` for performance and on `risk` for
VaR and stress tests; nothing imports reporting."""
