"""The ``behavtest`` command (:mod:`.cli`): ``plan``, ``diff``, ``gate`` (after a
fine-tune, :mod:`.gate`, or an OpenAI fine-tuning job, :mod:`.openai_jobs`) and
``organisms``."""
