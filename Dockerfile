# syntax=docker/dockerfile:1
# fiscalocr: API (`fiscalocr serve`, the default) or Celery worker (`fiscalocr worker`).
# System packages come only from scripts/install-system-deps.sh (the single source of truth);
# Python packages only from the hashed lock (requirements/runtime.lock: the versions of requirements/dev.lock,
# which scripts/setup.sh installs, minus the dev tools); the project itself with --no-deps.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Build mode: adds the tesseract/leptonica headers in case tesserocr builds from source (setup.sh's full
# mode adds the test fonts and the PostgreSQL/Redis servers on top; an image needs neither).
COPY scripts/install-system-deps.sh scripts/install-system-deps.sh
RUN bash scripts/install-system-deps.sh --build \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/runtime.lock requirements/runtime.lock
RUN /opt/venv/bin/python -m pip install -q --no-compile --require-hashes --no-deps -r requirements/runtime.lock
COPY pyproject.toml README.md alembic.ini ./
COPY ocr ocr
COPY fiscal fiscal
COPY models models
COPY service service
COPY bench bench
RUN /opt/venv/bin/python -m pip install -q --no-compile --no-deps --no-build-isolation .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FISCALOCR_DATA_DIR=/data \
    OMP_NUM_THREADS=1
COPY scripts/install-system-deps.sh /tmp/install-system-deps.sh
RUN bash /tmp/install-system-deps.sh --runtime \
    && rm -rf /var/lib/apt/lists/* /tmp/install-system-deps.sh \
    && groupadd --system --gid 10001 fiscalocr \
    && useradd --system --uid 10001 --gid fiscalocr --home-dir /app --no-create-home fiscalocr \
    && mkdir -p /data /app \
    && chown fiscalocr:fiscalocr /data /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=fiscalocr:fiscalocr alembic.ini /app/alembic.ini
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["fiscalocr"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
