"""Development tooling for kubetrade: a local control plane and a local node."""
