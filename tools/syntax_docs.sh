#!/bin/sh
# syntax_docs.sh MDLC DOC — replaces the tables of net and init statements
# in DOC (docs/language.md), each between the marker comments that
# `mdlc --dump-syntax` prints around it, with what MDLC prints now from
# compiler/statements.c. tests/unit/test_statements.c fails until it is run
# after the table changes.
mdlc=$1 doc=$2
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp" "$tmp.doc"' EXIT
"$mdlc" --dump-syntax > "$tmp" || exit 1
awk '
  FNR == NR {                       # the printed tables, keyed by first line
    if ($0 ~ /^<!-- [a-z]+ bodies:/) key = $0
    part[key] = part[key] $0 "\n"
    next
  }
  $0 in part { printf "%s", part[$0]; skipping = 1; next }
  skipping { if ($0 ~ /^<!-- end of /) skipping = 0; next }
  { print }
' "$tmp" "$doc" > "$tmp.doc" && cat "$tmp.doc" > "$doc"
