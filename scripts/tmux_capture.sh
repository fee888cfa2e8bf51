#!/usr/bin/env bash
# Run grok-tui in a detached 100x30 tmux session and save its screen as plain text.
#
# Usage:
#   scripts/tmux_capture.sh train OUT.txt [grok-tui train flags...]
#       Opens the live explorer (`grok-tui train FLAGS`), waits until the status bar shows
#       "grokked at step" (test accuracy reached 0.99), captures the screen into OUT.txt and
#       quits with q, which saves a checkpoint. Exits 1 with the screen still captured when the
#       app ends, diverges or fails before grokking, or after CAPTURE_TIMEOUT seconds.
#   scripts/tmux_capture.sh inspect RUN_DIR OUT.txt [keys...]
#       Opens `grok-tui inspect RUN_DIR`, sends each key (tmux key names: h, Space, Enter,
#       Escape, ...) a moment apart, waits CAPTURE_WAIT seconds, captures into OUT.txt and
#       quits.
#
# Environment:
#   GROK_TUI         command that runs grok-tui (default: grok-tui)
#   CAPTURE_TIMEOUT  seconds to wait for grokking or for the first screen (default: 900)
#   CAPTURE_WAIT     seconds between the last key and the capture in inspect mode (default: 2)
#
# Requires tmux (Debian/Ubuntu: apt-get install tmux).
set -euo pipefail

WIDTH=100
HEIGHT=30
GROK_TUI=${GROK_TUI:-grok-tui}
CAPTURE_TIMEOUT=${CAPTURE_TIMEOUT:-900}
CAPTURE_WAIT=${CAPTURE_WAIT:-2}
SESSION="grok-capture-$$"
EXIT_MARK="grok-tui exited with status"

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# Print the visible pane as plain text.
screen() {
    tmux capture-pane -p -t "$SESSION"
}

# Start the command in a detached session. The shell wrapper prints EXIT_MARK when the app
# ends, and keeps the pane open a while, so an early exit or a traceback can still be captured.
start() {
    local command
    command=$(printf '%q ' "$@")
    tmux new-session -d -s "$SESSION" -x "$WIDTH" -y "$HEIGHT" \
        "$command; echo; echo \"$EXIT_MARK \$?\"; sleep 600"
}

stop_session() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
}

# Send q, give the app up to 60 s to save a checkpoint and exit, then close the session.
quit_app() {
    tmux send-keys -t "$SESSION" q
    for _ in $(seq 600); do
        screen | grep -q "$EXIT_MARK" && break
        sleep 0.1
    done
    stop_session
}

# Wait until the screen matches the extended regex $1; return 1 on timeout.
wait_for() {
    local deadline=$((SECONDS + CAPTURE_TIMEOUT))
    while ((SECONDS < deadline)); do
        screen | grep -Eq "$1" && return 0
        sleep 1
    done
    return 1
}

capture_train() {
    local out=$1
    shift
    start "$GROK_TUI" train "$@"
    local ended="$EXIT_MARK|diverged|failed|finished|stopped"
    if ! wait_for "grokked at step|$ended"; then
        screen >"$out"
        echo "error: the run did not grok within $CAPTURE_TIMEOUT s; screen saved to $out" >&2
        quit_app
        return 1
    fi
    sleep 1  # the panes redraw at most 4 times a second, so let them catch up
    screen >"$out"
    if ! grep -q "grokked at step" "$out"; then
        echo "error: the run ended before grokking; screen saved to $out" >&2
        quit_app
        return 1
    fi
    quit_app
    echo "captured $out"
}

capture_inspect() {
    local run_dir=$1 out=$2
    shift 2
    start "$GROK_TUI" inspect "$run_dir"
    if ! wait_for '[^[:space:]]'; then
        echo "error: grok-tui inspect showed nothing within $CAPTURE_TIMEOUT s" >&2
        stop_session
        return 1
    fi
    sleep 1  # let the first screen finish drawing before keys arrive
    for key in "$@"; do
        tmux send-keys -t "$SESSION" "$key"
        sleep 0.3
    done
    sleep "$CAPTURE_WAIT"
    screen >"$out"
    quit_app
    echo "captured $out"
}

command -v tmux >/dev/null || { echo "error: tmux not found: install it (apt-get install tmux)" >&2; exit 2; }
trap stop_session EXIT

mode=${1:-}
case "$mode" in
    train)
        (($# >= 2)) || usage
        shift
        capture_train "$@"
        ;;
    inspect)
        (($# >= 3)) || usage
        shift
        capture_inspect "$@"
        ;;
    *)
        usage
        ;;
esac
