"""Market data: sources, splits and publishing a Dataset."""
