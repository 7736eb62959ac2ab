# Sourced by train.sh and train-m5.sh: creates training/.venv from the pinned requirements
# (once, and again when they change) and sets $venv.
here=${here:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
venv="$here/.venv"
stamp="$venv/.requirements-train.sha256"
want=$(cat "$here/requirements-train.txt" "$here/requirements-test.txt" | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-train.txt"
  echo "$want" > "$stamp"
fi
