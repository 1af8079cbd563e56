# syndicate daemon: syncs the boards on a schedule and serves the feeds.
#
#   docker build -t syndicate .
#   docker run -d -p 8080:8080 \
#     -v "$PWD/config.yaml:/srv/syndicate/config.yaml:ro" \
#     -v "$PWD/postings:/srv/syndicate/postings:ro" \
#     -v syndicate-feeds:/srv/syndicate/feeds -v syndicate-state:/srv/syndicate/.syndicate \
#     -e LINKEDIN_TOKEN -e GOOGLE_INDEXING_TOKEN -e HOOK_SECRET \
#     syndicate
#
# The server must listen on 0.0.0.0 inside the container: set `server: {host: 0.0.0.0}` in the
# mounted config.yaml (the example config listens on 127.0.0.1 only).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# With the PostgreSQL driver, for daemons sharing a PostgreSQL state (deploy/compose.yaml).
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgresql]'

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/*.whl \
 && useradd --system --create-home --home-dir /srv/syndicate --uid 10001 syndicate
WORKDIR /srv/syndicate
# The example set-up, used when nothing is mounted over it.
COPY --chown=syndicate:syndicate config.yaml ./config.yaml
COPY --chown=syndicate:syndicate postings ./postings
RUN sed -i 's/^server: .*/server: {host: 0.0.0.0, port: 8080}/' config.yaml \
 && mkdir -p feeds .syndicate && chown syndicate:syndicate feeds .syndicate
USER syndicate
VOLUME ["/srv/syndicate/postings", "/srv/syndicate/feeds", "/srv/syndicate/.syndicate"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
CMD ["syndicate", "daemon", "--log-format", "json"]
