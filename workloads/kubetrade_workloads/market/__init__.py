"""The shared kernel: bars, orders, fills, positions and the ports every mode plugs into.

envs, backtest, risk and trading all stand on this package and never import
each other sideways.
"""
