# Sourced by scripts/bench-ingest and scripts/bench-probot: what both sides of the ingest
# comparison share, so they are driven the same way. Expects to run from the repository root.
#
# Sets W (a temp dir, removed on exit with any server left running), BODY, SECRET, SIG (the
# body's X-Hub-Signature-256) and "$W/app.pem" (a throwaway RSA App key).
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
BODY=tests/fixtures/webhooks/pull_request/opened.2.json
SECRET=bench-secret
SIG=$(python3 -c 'import hmac,hashlib,sys; print("sha256="+hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$SECRET" "$BODY")
openssl genrsa -traditional -out "$W/app.pem" 2048 2>/dev/null
TICKS=$(getconf CLK_TCK)

# cpu_ticks PID: the process's user + system time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# load SECONDS CONNECTIONS PORT PATH RUN: wrk with scripts/webhook-load.lua against the
# server; prints the script's RESULT line without its prefix (rps=… p50_ms=… …). With BODIES
# set (see bodies_for), the requests cycle through those bodies.
load() {
  BODIES=${BODIES:-} BODY_FILE=$BODY SIG=$SIG RUN=$5 TARGET=$4 wrk -t1 -c"$2" -d"$1s" --timeout 5s \
    -s scripts/webhook-load.lua "http://127.0.0.1:$3" | sed -n 's/^RESULT //p'
}

# median_row: of lines "<deliveries/s> | <table row>" on stdin, the table row of the median.
median_row() {
  sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p" | cut -d'|' -f2- | sed 's/^ /| /'
}

# bodies_for PRS: writes PRS signed variants of $BODY, one pull request number each, and a list
# of "<signature> <file>" lines for BODIES; prints the list's path.
bodies_for() {
  python3 - "$1" "$BODY" "$SECRET" "$W" <<'PY'
import hashlib, hmac, json, os, sys
count, body, secret, work = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4]
base = json.load(open(body))
os.makedirs(f"{work}/bodies", exist_ok=True)
with open(f"{work}/bodies-{count}.txt", "w") as out:
    for n in range(1, count + 1):
        base["number"] = n
        base["pull_request"]["number"] = n
        data = json.dumps(base).encode()
        path = f"{work}/bodies/{count}-{n}.json"
        open(path, "wb").write(data)
        sig = "sha256=" + hmac.new(secret, data, hashlib.sha256).hexdigest()
        out.write(f"{sig} {path}\n")
print(f"{work}/bodies-{count}.txt")
PY
}
