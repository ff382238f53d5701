#!/usr/bin/env python3
"""Writes N synthetic posts in the canonical JSONL format (and, with --csv, the same rows as
CSV for PostgreSQL's COPY), spread over N/50 accounts, deterministic for a given N."""
import argparse
import json
import sys

parser = argparse.ArgumentParser()
parser.add_argument("count", type=int)
parser.add_argument("--jsonl", required=True)
parser.add_argument("--csv")
args = parser.parse_args()

accounts = max(1, args.count // 50)
with open(args.jsonl, "w") as jsonl, (open(args.csv, "w") if args.csv else open("/dev/null", "w")) as csv:
    for i in range(args.count):
        account = i % accounts
        day = 1 + i % 28
        record = {
            "type": "post",
            "platform": "instagram",
            "handle": f"creator{account}",
            "external_id": f"p{i}",
            "posted_time": f"2026-10-{day:02d}T12:00:00Z",
            "likes": 100 + i % 5000,
            "comments": i % 300,
            "views": 1000 + i % 90000,
            "caption": f"Post number {i} #food #recipe",
            "observed_time": "2026-11-01T00:00:00Z",
        }
        jsonl.write(json.dumps(record, separators=(",", ":")) + "\n")
        if args.csv:
            # creator_id, external_id, posted_at, format, likes, comments, views, caption,
            # hashtags, mentions, paid_partnership, updated_at, observed_at
            csv.write(
                f"{account + 1},p{i},2026-10-{day:02d} 12:00:00+00,post,{record['likes']},"
                f"{record['comments']},{record['views']},\"{record['caption']}\",food recipe,\"\",false,"
                "2026-11-25 00:00:00+00,2026-11-01 00:00:00+00\n"
            )
print(f"wrote {args.count} posts over {accounts} accounts", file=sys.stderr)
