"""Questions beyond a module's own: question files in the paper's format
(:mod:`.paper`) and meaning-preserving variants of a question
(:mod:`.metamorphic`)."""
