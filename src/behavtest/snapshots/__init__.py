"""Snapshots and diffs: stored measurements (:mod:`.store`), a run's side of
them (:mod:`.run`), and ``behavtest diff`` between two models' snapshots
(:mod:`.diff`) or a live model's (:mod:`.diff_live`)."""
