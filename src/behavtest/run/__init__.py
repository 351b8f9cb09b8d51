"""The run: the :class:`Session` every test of one pytest run shares (its model
handles, every verdict, the suite-level correction), and the sampling progress
the controller shows while xdist workers draw."""

from behavtest.run.session import Session

__all__ = ["Session"]
