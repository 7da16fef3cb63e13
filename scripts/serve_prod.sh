#!/usr/bin/env bash
# Runs the three processes of the Procfile together and stops them all when one stops or on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (PostgreSQL) for the production-like run}"
: "${REDIS_URL:?set REDIS_URL (Redis) for the production-like run}"
export PATH="$PWD/.venv/bin:$PATH"

pids=()
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  name=${line%%:*}
  command=${line#*: }
  echo "starting $name: $command"
  bash -c "exec $command" &
  pids+=($!)
done < Procfile

trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
wait -n
