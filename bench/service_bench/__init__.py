"""What the scoring and campaigns benchmarks share: one copy of running a service under test and reporting on it.

Both benches drain a pre-loaded backlog with a real process of the service, offer paced input for
latency and print a Markdown table; only their workloads and figures differ. The modules here take
the service's ``ServiceSpec`` (its name, group, port offset, time limits) instead of a copy per bench.
"""
