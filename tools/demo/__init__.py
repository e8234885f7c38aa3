"""``make demo``: a realistic retail chain through the four services, with a summary and an HTML report.

``python -m tools.demo run`` (see ``tools/demo/run.py`` for the steps); ``python -m tools.demo stop``.
"""
