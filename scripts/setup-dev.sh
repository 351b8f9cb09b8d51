#!/usr/bin/env bash
# Everything behavtest's own tests need (README command 2): what
# scripts/setup.sh installs, plus the openai, dev and server extras (the
# llama.cpp server compiles from source the first time). See scripts/setup.sh.
exec bash "$(dirname "$0")/setup.sh" --dev
