"""Trading environments over dataset splits: `TradingEnv` (gymnasium) and the
batched `VecTradingEnv` (a stable-baselines3 VecEnv), one numpy core under both.

Import the modules themselves (`envs.trading_env`, `envs.vec_env`): this
package imports nothing, so a policy that only needs `envs.features` does not
pay for gymnasium and stable-baselines3.
"""
