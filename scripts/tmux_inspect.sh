#!/usr/bin/env bash
# Capture `grok-tui inspect` as plain text: start it in a detached tmux session of a fixed
# size, send keys, wait for the screen to settle, and save the pane.
#
# usage: scripts/tmux_inspect.sh RUN_DIR OUT.txt [KEY...]
#   KEY: tmux key names, sent one by one (for example t End to open the checkpoint tab
#   and choose the last checkpoint).
# environment: WIDTH, HEIGHT (terminal size in cells, default 100x32), START_DELAY (seconds
#   for the app to start, default 4), KEY_DELAY (seconds after each key, default 1), SETTLE
#   (seconds before the capture, default 4, enough to load a p=113 checkpoint on a CPU).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 RUN_DIR OUT.txt [KEY...]" >&2
    exit 2
fi
run_dir=$1
out=$2
shift 2
if [[ ! -d $run_dir ]]; then
    echo "error: run folder $run_dir does not exist" >&2
    exit 2
fi

session="grok-inspect-$$"
# The trailing sleep keeps the pane open if the app exits early, so its error is captured.
tmux new-session -d -s "$session" -x "${WIDTH:-100}" -y "${HEIGHT:-32}" \
    "grok-tui inspect $(printf %q "$run_dir"); sleep 3600"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT

sleep "${START_DELAY:-4}"
for key in "$@"; do
    tmux send-keys -t "$session" "$key"
    sleep "${KEY_DELAY:-1}"
done
sleep "${SETTLE:-4}"
tmux capture-pane -p -t "$session" > "$out"
echo "saved $out"
