"""Hyperparameter search: one Optuna study, trials pulled by worker processes or pods."""
