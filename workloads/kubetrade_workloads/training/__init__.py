"""Training workloads: one readable entrypoint per algorithm family.

`train_rl` (PPO, A2C, SAC, TD3 from stable-baselines3), `cnn_lstm` (the
forecaster), `hybrid` (both); `job.run` picks one for a TrainJob, and
`policies.load_policy` serves what they publish. Nothing is imported here, so
importing a light module (artifacts, progress) does not load torch.
"""
