#!/usr/bin/env bash
# The HTTP front of a real daemon under hostile clients: a flood of stalled
# clients, slow headers, request smuggling and duplicate credentials. Raw
# sockets come from bash's /dev/tcp. (The policy itself is unit-tested in
# tests/unit/http_test.c.)
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve --max-connections 16 --idle-timeout 2 --header-timeout 2 || exit 1

health_fast() { # /health answers within a second
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$URL/health")" = 200 ]
}

# 16 clients that send one byte and stall fill every slot, three rounds.
for round in 1 2 3; do
    fds=()
    for i in $(seq 16); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && printf 'G' >&$fd
        fds+=("$fd")
    done
    sleep 0.2
    check "round $round: /health answers while 16 stalled clients hold every slot" health_fast
    sleep 2.5
    check "round $round: after their deadline /health still answers" health_fast
    for fd in "${fds[@]}"; do exec {fd}>&-; done
done

# 16 clients sending one header line every half second.
slow() { (printf 'GET /health HTTP/1.1\r\n'; for i in $(seq 12); do sleep 0.5; printf 'X-Slow: %d\r\n' "$i"; done) \
    >"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; }
pids=()
for i in $(seq 16); do slow & pids+=($!); done
sleep 1
check "/health answers during a slow-header flood" health_fast
sleep 1.5
check "... and again after the slow clients were cut at their deadline" health_fast
established() { ss -Htn state established "( sport = :$PORT )" | wc -l; }
check "the slow clients hold no slot past the header deadline" [ "$(established)" -le 1 ]
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null

# raw REQUEST: sends it on a fresh connection; prints the status line and whether it was closed.
raw() {
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    printf '%b' "$1" >&$fd
    timeout 3 cat <&$fd >"$WORK/raw"
    exec {fd}>&-
    head -1 "$WORK/raw" | tr -d '\r'
}
before=$(instance_count)
body=$LEAD
n=${#body}
st=$(raw "POST /v1/leads HTTP/1.1\r\nAuthorization: Bearer pa-ar-token\r\nContent-Length: $n\r\nContent-Length: 5\r\n\r\n$body")
check "two Content-Length headers: 400" [ "$st" = "HTTP/1.1 400 Bad Request" ]
check "... and the connection is closed" grep -q '^Connection: close' "$WORK/raw"
st=$(raw "POST /v1/leads HTTP/1.1\r\nAuthorization: Bearer pa-ar-token\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /v1/leads HTTP/1.1\r\nAuthorization: Bearer pa-ar-token\r\nContent-Length: $n\r\n\r\n$body")
check "Content-Length with Transfer-Encoding: 400" [ "$st" = "HTTP/1.1 400 Bad Request" ]
check "... and the hidden second request was not served" [ "$(grep -c '^HTTP/1.1' "$WORK/raw")" = 1 ]
st=$(raw "POST /v1/leads HTTP/1.1\r\nAuthorization: Bearer pa-ar-token\r\nAuthorization: Bearer hq-admin-token\r\nContent-Length: $n\r\n\r\n$body")
check "two Authorization headers: 400" [ "$st" = "HTTP/1.1 400 Bad Request" ]
check "the error is the JSON envelope" sh -c "tail -1 '$WORK/raw' | jq -e '.error.code == \"bad_request\"' >/dev/null"
check "no refused request stored anything" [ "$(instance_count)" = "$before" ]
st=$(raw "POST /v1/leads HTTP/1.1\r\nAuthorization: Bearer pa-ar-token\r\nContent-Length: $n\r\nConnection: close\r\n\r\n$body")
check "a well-framed lead on a raw socket is created" [ "$st" = "HTTP/1.1 201 Created" ]
check "the daemon is alive" health_fast
stop_daemon
finish
