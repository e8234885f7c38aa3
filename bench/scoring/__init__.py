"""The scoring benchmark (``python -m bench.scoring_throughput``), one module per job."""
