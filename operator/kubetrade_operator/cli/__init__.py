"""`trading-cli`: one command line for kubetrade, locally or against a cluster."""
