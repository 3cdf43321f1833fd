# article-facts: the REST API and its CLI in one image, for SQLite (the default, a file in
# /var/lib/article-facts) and PostgreSQL (set APP_DATABASE_URL=postgresql+psycopg://…).
#
#   docker build -t article-facts .
#   docker run --rm -p 127.0.0.1:8000:8000 article-facts      # seed loaded, /docs works offline
#
# With the offline draft extractor (`article-facts draft`, its models inside the image):
#
#   docker build --build-arg EXTRAS=extract -t article-facts:extract .

# ---------------------------------------------------------------- builder
FROM python:3.11-slim AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# binutils (strip) stays in this stage. The venv has no pip/setuptools of its own: the base
# image's pip installs into it (--python).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/* \
 && python -m venv --without-pip /opt/venv
WORKDIR /src

# 1. Dependencies only, read from pyproject.toml (the runtime ones + the postgres extra): this
#    layer is rebuilt when pyproject.toml changes, not when the code does. Size (the image
#    would be ~215 MB otherwise):
#    - extension modules lose their debug symbols (-24 MB; the auditwheel-vendored *.libs are
#      left alone), and each one is imported afterwards to prove it still loads;
#    - the dependencies are shipped as bytecode only (compileall -b writes x.pyc beside x.py,
#      then the .py files go: -24 MB). Their frames in a traceback show file and line, not the
#      source text; the project's own code (layer 2) keeps its sources.
#    EXTRAS names more extras of pyproject.toml to install (comma-separated), e.g. "extract".
ARG EXTRAS=""
COPY pyproject.toml ./
# hadolint ignore=DL3003
RUN EXTRAS="$EXTRAS" python -c 'import os, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
extras = ["postgres"] + [e.strip() for e in os.environ["EXTRAS"].split(",") if e.strip()]; \
print("\n".join(p["dependencies"] + [r for e in extras for r in p["optional-dependencies"][e]]))' \
        > /tmp/requirements.txt \
 && pip --python /opt/venv/bin/python install --no-cache-dir --disable-pip-version-check \
        --no-compile -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt \
 && cd /opt/venv/lib/python3.11/site-packages \
 && find . -name '*.so' -not -path '*.libs/*' -exec strip --strip-unneeded {} + \
 && /opt/venv/bin/python -m compileall -q -b -j 0 . \
 && find . -name '*.py' -delete \
 && find . -name '*.so' -not -path '*.libs/*' \
      | sed -e 's|^\./||' -e 's|\.cpython-[^/]*\.so$||' -e 's|\.abi3\.so$||' -e 's|\.so$||' -e 's|/|.|g' \
      | (cd / && xargs /opt/venv/bin/python -c \
           'import psycopg, importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]') \
 && cd / \
 && /opt/venv/bin/python -c 'import fastapi, uvicorn, sqlmodel, alembic, typer, rich, psycopg; \
assert psycopg.pq.__impl__ == "binary", psycopg.pq.__impl__'

# 2. The project itself, as a wheel that bundles data/ (the seed) and migrations/; pip compiles
#    its bytecode (compileall checks it), sources kept. /opt/venv/seed -> the bundled seed.
COPY README.md ./
COPY migrations ./migrations
COPY data ./data
COPY app ./app
# hadolint ignore=DL3003
RUN pip --python /opt/venv/bin/python install --no-cache-dir --disable-pip-version-check \
        --no-deps . \
 && cd / \
 && if [ -n "$EXTRAS" ]; then /opt/venv/bin/python -c 'from app.extract import missing_modules; \
from app.extract.command import prepare; assert not missing_modules(), missing_modules(); \
prepare("en"); prepare("ru")'; fi \
 && seed=$(/opt/venv/bin/python -c 'from app.settings import bundled_path; print(bundled_path("data"))') \
 && ln -s "$seed" /opt/venv/seed \
 && ls /opt/venv/seed/*.json \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# ---------------------------------------------------------------- runtime
FROM python:3.11-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="article-facts" \
      org.opencontainers.image.description="A read API for the facts extracted from news articles: entities, events and claims, each tied to the exact words of its article." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="python:3.11-slim"

# A system user owns only the data directory; the code in /opt/venv stays root-owned, read-only.
RUN groupadd --system --gid 10001 article-facts \
 && useradd --system --uid 10001 --gid article-facts --no-create-home \
        --home-dir /var/lib/article-facts --shell /usr/sbin/nologin article-facts \
 && install -d -o article-facts -g article-facts -m 0755 /var/lib/article-facts

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_HOST=0.0.0.0 \
    APP_PORT=8000 \
    APP_DATABASE_URL=sqlite:////var/lib/article-facts/article-facts.db \
    APP_SEED_DIR=/opt/venv/seed

WORKDIR /var/lib/article-facts
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
# GET http://127.0.0.1:$APP_PORT/readyz answers 200 (standard library only: no curl in the
# image, and it starts in milliseconds; `article-facts healthcheck` does the same for people).
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "app.healthcheck"]
# Exec form: the server is PID 1 and receives SIGTERM itself (uvicorn shuts down gracefully).
CMD ["article-facts", "serve"]
