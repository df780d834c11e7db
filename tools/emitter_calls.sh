#!/bin/sh
# emitter_calls.sh [-v] [BUILD] — checks, from the compiled objects'
# symbols, that the emitters (compiler/emit*.c) call one another in one
# direction only (no cycle) and never reach back into the front end
# (sema*.c, ast.c, the lexer and the parser): they work from the model.
# -v prints every call from one emitter file into another file.
verbose=0
[ "$1" = -v ] && verbose=1 && shift
B=${1:-build}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Which file defines each global function: "symbol file".
for o in "$B"/compiler/*.o "$B"/grammar/*.o; do
  nm --defined-only "$o" | awk -v f="$(basename "$o" .o)" '$2 == "T" { print $3, f }'
done | sort > "$tmp/defined"

# Every call from an emitter into another file: "caller callee".
for o in "$B"/compiler/emit*.o; do
  nm -u "$o" | awk '{ print $2 }' | sort | join - "$tmp/defined" |
    awk -v f="$(basename "$o" .o)" '$2 != f { print f, $2 }'
done | sort -u > "$tmp/calls"
[ $verbose = 1 ] && cat "$tmp/calls"

status=0
if grep -E ' (sema[a-z_]*|ast|lexer|parser)$' "$tmp/calls"; then
  echo "emitter_calls: the emitters above call into the front end" >&2
  status=1
fi
if ! awk '$2 ~ /^emit/' "$tmp/calls" | tsort > /dev/null 2> "$tmp/cycle"; then
  cat "$tmp/cycle" >&2
  echo "emitter_calls: the emitter files call one another in a cycle" >&2
  status=1
fi
[ $status = 0 ] && echo "emitter_calls: $(awk '$2 ~ /^emit/' "$tmp/calls" | wc -l) calls between emitter files, no cycle, none into the front end"
exit $status
