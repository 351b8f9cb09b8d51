"""What a run shows a person: the terminal summary (:mod:`.terminal`), the
Markdown summary for a pull request (:mod:`.markdown`), the HTML report
(:mod:`.html`) and its plots (:mod:`.plots`)."""
