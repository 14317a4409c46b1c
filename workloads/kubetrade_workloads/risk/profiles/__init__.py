"""Risk profile templates (YAML data, shipped with the package)."""
