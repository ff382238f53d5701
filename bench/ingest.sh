#!/usr/bin/env bash
# Ingestion benchmark: posts from JSONL into SQLite and PostgreSQL with `resonance import`
# (idempotent upserts, validation, dead letters, job accounting), beside PostgreSQL's own COPY
# of the same rows into a table of the same shape, and peak memory at two input sizes.
#
#   bench/ingest.sh [SIZES...]        default: 100000 1000000
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres bench/ingest.sh
#
# Prints one table; the issue's targets are >= 200,000 rows/s into SQLite, >= 50% of COPY's
# rate into PostgreSQL, and peak RSS that does not grow with the input.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=("${@:-100000 1000000}")
read -r -a SIZES <<<"${SIZES[*]}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
WORK="$(mktemp -d)"
PG_DBS=()
cleanup() {
  for db in "${PG_DBS[@]}"; do psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --locked -p resonance-cli >&2
BIN="${CARGO_TARGET_DIR:-target}/release/resonance"

# Runs `resonance import` against $1 (database URL) for file $2; prints "seconds peak_kb".
run_import() {
  local url="$1" file="$2"
  RESONANCE__DATABASE__URL="$url" RESONANCE__TELEMETRY__FILTER=warn \
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" import "$file" >"$WORK/out" 2>"$WORK/err" || {
      cat "$WORK/err" >&2
      return 1
    }
  grep -q "rejected 0" "$WORK/out" || { echo "unexpected rejections: $(cat "$WORK/out")" >&2; return 1; }
  cat "$WORK/time"
}

pg_admin() { psql "$PG_URL" -v ON_ERROR_STOP=1 -qAt -c "$1"; }

printf '%-10s %-34s %12s %12s %10s\n' "rows" "what" "seconds" "rows/s" "peak RSS"
for n in "${SIZES[@]}"; do
  python3 bench/gen_posts.py "$n" --jsonl "$WORK/posts.jsonl" --csv "$WORK/posts.csv" 2>/dev/null

  read -r secs kb < <(run_import "sqlite://$WORK/bench.db" "$WORK/posts.jsonl")
  printf '%-10s %-34s %12.2f %12.0f %8.1fMB\n' "$n" "SQLite: resonance import" "$secs" "$(echo "$n / $secs" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
  read -r secs kb < <(run_import "sqlite://$WORK/bench.db" "$WORK/posts.jsonl")
  printf '%-10s %-34s %12.2f %12.0f %8.1fMB\n' "$n" "SQLite: same file again (unchanged)" "$secs" "$(echo "$n / $secs" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
  rm -f "$WORK"/bench.db*

  db="resonance_bench_$$_$n"
  pg_admin "CREATE DATABASE $db"
  PG_DBS+=("$db")
  pg_url="${PG_URL%/*}/$db"
  read -r secs kb < <(run_import "$pg_url" "$WORK/posts.jsonl")
  pg_rate=$(echo "$n / $secs" | bc -l)
  printf '%-10s %-34s %12.2f %12.0f %8.1fMB\n' "$n" "PostgreSQL: resonance import" "$secs" "$pg_rate" "$(echo "$kb / 1024" | bc -l)"
  # COPY of the same rows into a table shaped like posts: with its indexes (LIKE ... INCLUDING
  # ALL), the baseline; and again with a foreign key to creators, which the posts table had
  # until migration 12 dropped it on PostgreSQL: what that check would cost.
  copy_rate() {
    local table="$1"
    local start end
    start=$(date +%s.%N)
    psql "$pg_url" -v ON_ERROR_STOP=1 -qAt -c "\\copy $table (creator_id, external_id, posted_at, format, likes, comments, views, caption, hashtags, mentions, paid_partnership, updated_at, observed_at) FROM '$WORK/posts.csv' WITH (FORMAT csv)"
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
  }
  psql "$pg_url" -v ON_ERROR_STOP=1 -qAt -c "CREATE TABLE copy_posts (LIKE posts INCLUDING ALL)"
  secs=$(copy_rate copy_posts)
  copy_rate=$(echo "$n / $secs" | bc -l)
  printf '%-10s %-34s %12.2f %12.0f %10s\n' "$n" "PostgreSQL: COPY of the same rows" "$secs" "$copy_rate" "-"
  psql "$pg_url" -v ON_ERROR_STOP=1 -qAt -c "CREATE TABLE copy_posts_fk (LIKE posts INCLUDING ALL, FOREIGN KEY (creator_id) REFERENCES creators (id) ON DELETE CASCADE)"
  secs=$(copy_rate copy_posts_fk)
  copy_fk_rate=$(echo "$n / $secs" | bc -l)
  printf '%-10s %-34s %12.2f %12.0f %10s\n' "$n" "PostgreSQL: COPY, with the FK" "$secs" "$copy_fk_rate" "-"
  printf '%-10s %-34s %35.0f%%\n' "$n" "PostgreSQL: import / COPY" "$(echo "100 * $pg_rate / $copy_rate" | bc -l)"
  printf '%-10s %-34s %35.0f%%\n' "$n" "PostgreSQL: import / COPY with an FK" "$(echo "100 * $pg_rate / $copy_fk_rate" | bc -l)"
done
