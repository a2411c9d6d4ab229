# backup-collect — the project's verbs. `just --list` shows them.

# Run the API on the embedded default (SQLite + local files under ./var).
serve *ARGS:
    uv run --locked backup-collect serve {{ARGS}}

# Run every test (unit and integration).
test *ARGS:
    uv run --locked pytest {{ARGS}}

# ruff, mypy --strict and the import-layer check.
lint:
    uv run --locked ruff check
    uv run --locked ruff format --check
    uv run --locked mypy
    uv run --locked lint-imports

# Fuzz for longer (bounded): the header parsers, and every API operation with no, Basic and admin credentials (~3 min).
fuzz EXAMPLES="50":
    BACKUP_FUZZ_EXAMPLES={{EXAMPLES}} uv run --locked pytest tests/unit/test_header_fuzz.py tests/integration/test_fuzz_http.py -q

# Measure ingest, memory, S3, concurrency and small uploads against same-run baselines (~3 min; --quick: smoke run).
bench *ARGS:
    uv run --locked python -m bench.run {{ARGS}}

# A fleet night: N systems uploading at once to the embedded default and to 2 replicas on PostgreSQL + SeaweedFS + Redis (a few minutes; --quick: about one).
load *ARGS:
    uv run --locked python -m bench.load {{ARGS}}

# Photograph each operator-console page on demo data with headless Chromium (into docs/screenshots).
screenshots DIR="docs/screenshots":
    uv run --locked python -m tests.integration.screenshots {{DIR}}
