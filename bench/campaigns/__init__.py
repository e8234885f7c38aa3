"""The campaigns benchmark (``python -m bench.campaigns_throughput``), one module per job."""
