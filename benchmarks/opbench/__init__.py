"""The parts of ``benchmarks/operator_bench.py``: the load and the Job watch
(``load``), CPU and memory probes (``probes``), the operator process
(``process``) and the figures and tables (``report``)."""
