"""``make bench``: one run of every benchmark against the real local stack, one table of figures.

The harness measures the ceilings (bare Kafka loops, asyncpg COPY and executemany), runs the
existing benches (``bench.ingest_throughput`` … ``bench.pipeline_throughput``) as subprocesses and
reads their JSON, measures scoring's per-event and sweep cost as stored members grow (1M, 10M),
and writes ``bench/results/latest.json`` and ``latest.md``. One module per job:

- ``config``: the sizes of a ``--quick`` and a full run;
- ``model``: the records the run collects, and the ratios derived from them (pure);
- ``table``: those records as Markdown (pure);
- ``ceilings_kafka`` / ``ceilings_postgres``: the ceilings;
- ``scratch``: a scratch copy of scoring's schema, made by scoring's own migrations;
- ``scale``: bulk loads and the per-event and sweep costs at each member count;
- ``subbench``: one existing bench as a subprocess, its progress streamed, its JSON read;
- ``services`` / ``pipeline``: the service benches' and the pipeline bench's figures;
- ``cli``: the run, in order, and the files it writes.
"""
