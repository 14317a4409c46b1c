"""Model evaluation: backtest a policy on held-out data and judge it by gates."""
