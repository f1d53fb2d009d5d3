# The dictionary app image (the last stage, built by default): gunicorn serving app:app on port
# 5000, with the embedded WordNet dictionary compiled at build time. Also runs
# scripts/provision.py (the `provision` service). The first stage is a separate, tiny image.

# The Admin API relay of docker-compose.yml (the `admin-forwarder` service builds this target):
# Debian 12's socat and nothing else, running as nobody. First in the file, so a builder that
# builds every stage up to its target (the classic one) does not build the dictionary for it.
FROM debian:12-slim AS admin-forwarder
RUN apt-get update \
    && apt-get install -y --no-install-recommends socat \
    && rm -rf /var/lib/apt/lists/*
USER 65534:65534
ENTRYPOINT ["socat"]

# Python 3.11 to match CI; slim-bookworm also pins the Debian release that wordnet-base comes
# from, so a new Debian cannot change the compiled dictionary under the same tag.
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /app
# Dependencies first and alone: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# Build stage: compiles Debian's WordNet 3.0 files (/usr/share/wordnet) into SQLite. It needs
# the runtime dependencies because the compiler lives in the `dictionary` package, whose
# import pulls in Flask. wordnet-base (28 MB) stays in this stage only.
FROM base AS wordnet
RUN apt-get update \
    && apt-get install -y --no-install-recommends wordnet-base \
    && rm -rf /var/lib/apt/lists/*
COPY dictionary/ dictionary/
COPY scripts/ scripts/
# Writes /app/data/wordnet.sqlite3 and its licence text, /app/data/wordnet-LICENSE.
RUN python scripts/build_wordnet.py --source /usr/share/wordnet --output /app/data/wordnet.sqlite3

FROM base AS runtime
# An unprivileged system user with fixed ids (numeric USER below, so orchestrators can verify
# it is not root). The code stays owned by root: the app cannot rewrite itself.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY app.py gunicorn.conf.py gateway.yaml openapi.yaml ./
COPY dictionary/ dictionary/
COPY gateway/ gateway/
COPY scripts/ scripts/
COPY --from=wordnet /app/data/ data/
ENV DICTIONARY_WORDNET_PATH=/app/data/wordnet.sqlite3 \
    GUNICORN_BIND=0.0.0.0:5000
USER 10001:10001
EXPOSE 5000
# The image has no curl: Python's urllib asks the app itself. A non-200 answer raises, so
# the exit status is non-zero for anything but 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/-/health', timeout=2).status == 200 else 1)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
