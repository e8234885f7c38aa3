"""What a run produced, read from each service's own tables (with its own role) and from the topics.

Each module fills sections of the report's facts (``tools.demo_report.facts``) for one service.
"""
