#!/usr/bin/env bash
# make demo: start a local testnet, make two identities, send a message from Alice to Bob
# through onion paths, read it back as Bob, and stop everything on exit. Offline, loopback only.
#
#   scripts/demo.sh              uses the release binaries (make demo builds them)
#   SNKIT_BIN=target/debug scripts/demo.sh
#   DEMO_NODES=20 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${SNKIT_BIN:-target/release}
NODES=${DEMO_NODES:-12}

for t in keygen testnet send retrieve ratchet; do
  if [ ! -x "$BIN/$t" ]; then
    echo "demo: $BIN/$t is missing: run 'make demo' (or 'cargo build --release --bins')" >&2
    exit 1
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/snkit-demo.XXXXXX")
NET="$WORK/net"
cleanup() {
  "$BIN/testnet" down --dir "$NET" >/dev/null 2>&1 || true
  # Belt and braces: anything still running from this demo's directory is killed by its pid.
  local p cmd
  for p in /proc/[0-9]*; do
    # 2>/dev/null first: redirections apply left to right, so it must be in place before the
    # shell opens the cmdline of a process that may have ended since the glob listed it.
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    if [[ $cmd == *"$WORK"* ]]; then kill -9 "${p#/proc/}" 2>/dev/null || true; fi
  done
  rm -rf "$WORK" 2>/dev/null || { sleep 0.2; rm -rf "$WORK" 2>/dev/null || true; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi
field() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" "$2"; }

step "1. start a testnet of $NODES service nodes on loopback ($NET)"
"$BIN/testnet" up --nodes "$NODES" --dir "$NET"
echo "node list: $NET/nodes.json"

step "2. two identities (keygen -o writes a 0600 file; only the public Session IDs are shown)"
"$BIN/keygen" -o "$WORK/alice.json" >/dev/null
"$BIN/keygen" -o "$WORK/bob.json" >/dev/null
ALICE=$(field session_id "$WORK/alice.json")
BOB=$(field session_id "$WORK/bob.json")
printf '{"alice":"%s","bob":"%s"}\n' "$ALICE" "$BOB"

step "3. Alice sends to Bob: envelope + proof of work, stored on 3 nodes of Bob's swarm via 3-hop onion paths"
printf 'Hello Bob! This is Alice, over three onion hops.' |
  "$BIN/send" --identity "$WORK/alice.json" --to "$BOB" --nodes "$NET/nodes.json"

step "4. Bob retrieves from 3 nodes of his swarm (signed, through onion paths)"
"$BIN/retrieve" --identity "$WORK/bob.json" --state "$WORK/state" --nodes "$NET/nodes.json" | tee "$WORK/inbox.ndjson"

step "5. the message data, base64-decoded"
DATA=$(field data "$WORK/inbox.ndjson" | head -n1)
if [ -z "$DATA" ]; then
  echo "demo: Bob received nothing" >&2
  exit 1
fi
printf '%s' "$DATA" | base64 -d
echo

step "6. a second retrieve prints only new messages (none)"
"$BIN/retrieve" --identity "$WORK/bob.json" --state "$WORK/state" --nodes "$NET/nodes.json"
echo "(nothing new)"

step "7. end-to-end encrypted: Alice's friend request (ratchet) travels the same way"
printf 'Hi Bob, it is Alice. Shall we talk privately?' |
  "$BIN/ratchet" request --identity "$WORK/alice.json" --state "$WORK/ratchet-alice" --to "$BOB" --name Alice |
  "$BIN/send" --identity "$WORK/alice.json" --to "$BOB" --nodes "$NET/nodes.json"

step "8. Bob retrieves it and decrypts it (retrieve | ratchet decrypt)"
"$BIN/retrieve" --identity "$WORK/bob.json" --state "$WORK/state" --nodes "$NET/nodes.json" >"$WORK/request.ndjson"
"$BIN/ratchet" decrypt --identity "$WORK/bob.json" --state "$WORK/ratchet-bob" <"$WORK/request.ndjson"

step "9. Bob accepts; his first message goes back to Alice's swarm"
"$BIN/ratchet" accept --identity "$WORK/bob.json" --state "$WORK/ratchet-bob" --text 'Hi Alice! Yes.' <"$WORK/request.ndjson" |
  "$BIN/send" --identity "$WORK/bob.json" --to "$ALICE" --nodes "$NET/nodes.json"

step "10. Alice retrieves and decrypts Bob's answer"
"$BIN/retrieve" --identity "$WORK/alice.json" --state "$WORK/state" --nodes "$NET/nodes.json" |
  "$BIN/ratchet" decrypt --identity "$WORK/alice.json" --state "$WORK/ratchet-alice"

step "done: stopping the testnet"
