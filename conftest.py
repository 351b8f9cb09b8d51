"""The project's top-level conftest: the behaviour suite opts in to behavtest here.

behavtest registers no pytest11 entry point, so installing it changes nothing
in other test runs; a suite that wants the plugin (its options, the ``model``
and ``baseline`` fixtures, verdicts and the summary) says so in its top-level
conftest.py. Copy this line into yours.
"""

pytest_plugins = ["behavtest.plugin"]
