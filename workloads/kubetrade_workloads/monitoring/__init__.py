"""Drift and decay: what the trader watches about the model it trades.

`reference` captures, at training time, each model feature's distribution on
the training split (`DriftReference`, in the model card) and, at evaluation
time, what the model's out-of-sample backtest earned per bar (`Expectation`,
`expectation.json` in the model folder). `drift` compares live feature values
with the reference (PSI, two-sample KS), `decay` compares realised per-bar
returns with the expectation (a one-sided Welch t-test), and `monitor` keeps
the rolling windows the trader feeds bar by bar. The operator judges the
report against `spec.drift`; nothing here raises an alarm by itself.
"""
