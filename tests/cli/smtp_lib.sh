# Helpers for the SMTP tests: a local sink (tests/tools/smtp_sink.py, on
# Debian's python3-aiosmtpd) on 127.0.0.1. Source after lib.sh.
#
# SMTP_PY: the system's python3 when it has aiosmtpd (Debian's package), else
# the first python3 on PATH; the tests parse what the sink received with it
# too (the standard library's email package).
SMTP_PY=python3
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null && SMTP_PY=/usr/bin/python3

# smtp_sink_start DIR [OPTIONS...]: starts the sink writing into DIR (see the
# script for OPTIONS), waits for its port and sets SINK_PID and SINK_PORT.
# Returns 1 (with the reason on stderr) when SMTP_PY lacks aiosmtpd.
smtp_sink_start() {
    local dir=$1 i
    shift
    "$SMTP_PY" -c 'import aiosmtpd' 2>/dev/null ||
        { echo "no python3 with aiosmtpd (Debian: python3-aiosmtpd)" >&2; return 1; }
    mkdir -p "$dir"
    rm -f "$dir/port"
    "$SMTP_PY" "${CRM_SOURCE_DIR:?}/tests/tools/smtp_sink.py" "$dir" "$@" 2>"$dir/sink.err" &
    SINK_PID=$!
    for i in $(seq 1 100); do
        [ -s "$dir/port" ] && { SINK_PORT=$(cat "$dir/port"); return 0; }
        kill -0 "$SINK_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "the SMTP sink did not start:" >&2
    cat "$dir/sink.err" >&2
    return 1
}

# smtp_sink_stop: SIGTERM, then waits.
smtp_sink_stop() {
    [ -n "${SINK_PID:-}" ] || return 0
    kill -TERM "$SINK_PID" 2>/dev/null
    wait "$SINK_PID" 2>/dev/null
    SINK_PID=
}

# smtp_mail_count DIR: messages the sink in DIR received.
smtp_mail_count() {
    ls "$1/mail" 2>/dev/null | grep -c '\.eml$' || true
}
