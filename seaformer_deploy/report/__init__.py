"""Latency regression verdicts on bench reports: compare, blame, baselines, A/B, markdown and HTML reports."""
