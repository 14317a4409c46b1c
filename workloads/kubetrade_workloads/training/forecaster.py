"""The CNN-LSTM forecaster: next-bar returns from a window of one symbol's features.

A causal 1-D convolution over time extracts local patterns from the feature
window, an LSTM reads them in order, and a linear head predicts the symbol's
next close-to-close log return divided by its training-split standard
deviation (`target_scale`). One network serves every symbol: samples are
(bar, symbol) pairs, so the model learns from all symbols at once and can
forecast any symbol whose features it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..config.training import CnnLstmParams
from ..envs.arrays import MarketArrays
from ..market.history import FloatArray


class CnnLstm(nn.Module):
    """[batch, window, features] -> [batch] scaled next-bar return forecasts."""

    def __init__(self, features: int, params: CnnLstmParams) -> None:
        super().__init__()
        self.kernel = params.kernel_size
        # Left padding only: the output at bar t reads bars <= t.
        self.conv = nn.Conv1d(features, params.hidden_size, params.kernel_size)
        self.lstm = nn.LSTM(
            params.hidden_size,
            params.hidden_size,
            num_layers=params.layers,
            batch_first=True,
            dropout=params.dropout if params.layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(params.dropout)
        self.head = nn.Linear(params.hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forecast for each window in the batch."""
        h = nn.functional.pad(x.transpose(1, 2), (self.kernel - 1, 0))
        h = torch.relu(self.conv(h)).transpose(1, 2)
        out, _ = self.lstm(h)
        forecast: torch.Tensor = self.head(self.dropout(out[:, -1])).squeeze(-1)
        return forecast


@dataclass(frozen=True)
class Samples:
    """(bar, symbol) pairs a forecaster learns from, and their scaled targets."""

    bars: np.ndarray
    symbols: np.ndarray
    targets: FloatArray


def next_returns(data: MarketArrays) -> FloatArray:
    """Next-bar log close-to-close returns, [bars, symbols]; the last bar's are NaN."""
    out = np.full(data.close.shape, np.nan)
    out[:-1] = np.log(data.close[1:] / data.close[:-1])
    return out


def samples(data: MarketArrays, target_scale: float) -> Samples:
    """Every bar with a full window and a next bar, for every symbol tradeable at both."""
    returns = next_returns(data)
    usable = np.zeros(data.close.shape, dtype=bool)
    usable[data.first : -1] = data.tradeable[data.first : -1] & data.tradeable[data.first + 1 :]
    usable &= np.isfinite(returns)
    bars, symbols = np.nonzero(usable)
    return Samples(bars, symbols, returns[bars, symbols] / target_scale)


def target_scale(data: MarketArrays) -> float:
    """The standard deviation of next-bar returns on the training split (>= 1e-8)."""
    returns = next_returns(data)[data.first : -1][data.tradeable[data.first : -1]]
    returns = returns[np.isfinite(returns)]
    return max(float(returns.std()) if returns.size > 1 else 0.0, 1e-8)


def windows(data: MarketArrays, bars: np.ndarray, symbols: np.ndarray) -> torch.Tensor:
    """The feature windows ending at `bars` for `symbols`: [batch, window, features]."""
    k = len(data.symbols)
    per_symbol = data.features.reshape(data.bars, k, -1)
    offsets = np.arange(1 - data.window, 1)
    return torch.from_numpy(per_symbol[bars[:, None] + offsets, symbols[:, None]])


def forecast(
    model: CnnLstm, data: MarketArrays, device: torch.device, batch: int = 4096
) -> FloatArray:
    """Scaled forecasts for every bar and symbol, [bars, symbols]; zero before the first window."""
    k = len(data.symbols)
    out = np.zeros((data.bars, k))
    bars, symbols = np.nonzero(np.ones((data.bars - data.first, k), dtype=bool))
    bars = bars + data.first
    model.eval()
    with torch.no_grad():
        for lo in range(0, len(bars), batch):
            b, s = bars[lo : lo + batch], symbols[lo : lo + batch]
            out[b, s] = model(windows(data, b, s).to(device)).float().cpu().numpy()
    return out
