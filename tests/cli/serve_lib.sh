# Helpers for the crm serve tests. Source after lib.sh with crm() defined.
#
# serve_start DIR [OPTIONS...]: starts (with $CRM and $SERVE_CONFIG) `crm serve --listen 127.0.0.1:0` in the
# background (its stdout in DIR/serve.out, stderr in DIR/serve.err), waits for
# its "listening on" line and sets SERVE_PID and SERVE_URL.
serve_start() {
    local dir=$1
    shift
    "$CRM" --config "$SERVE_CONFIG" serve --listen 127.0.0.1:0 "$@" >"$dir/serve.out" 2>"$dir/serve.err" &
    SERVE_PID=$!
    local i
    for i in $(seq 1 200); do
        if grep -q 'listening on' "$dir/serve.out" 2>/dev/null; then
            SERVE_URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$dir/serve.out")
            return 0
        fi
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "crm serve did not start:" >&2
    cat "$dir/serve.err" >&2
    return 1
}

# serve_stop: SIGTERM, then waits; sets SERVE_RC to its exit status.
serve_stop() {
    kill -TERM "$SERVE_PID"
    SERVE_RC=0
    wait "$SERVE_PID" || SERVE_RC=$?
}
