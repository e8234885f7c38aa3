"""The chaos suite: a generated history through the four services while processes and the stack are broken.

``python -m tools.chaos run`` (``make chaos``); the reduced scenarios run in ``make test``
(``tests/e2e/test_chaos.py``). docs/reliability.md says what each scenario proves.
"""
