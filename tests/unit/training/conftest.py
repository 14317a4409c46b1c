"""Training tests run torch on one thread: small models, two shared cores, stable timings."""

import torch

torch.set_num_threads(1)
