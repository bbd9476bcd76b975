# syntax=docker/dockerfile:1
# One image for every Planet process; the container command picks the module:
#   docker run IMAGE gateway | services.content | services.incentive.processor
#              services.incentive.engagement | services.analytics
# Nothing secret is baked in: configuration (JWT secret, ClickHouse URL) comes from the
# environment at run time.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Compilers only in this stage, for any dependency without a wheel for the target platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt constraints.txt /tmp/
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt -c /tmp/constraints.txt

FROM python:3.11-slim
RUN groupadd --system --gid 10001 planet \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin planet
# HOME=/tmp: the only writable path when the root filesystem is read-only (Kubernetes mounts
# an emptyDir there). Bytecode is compiled at build time, so nothing is written beside the code.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY planet/ planet/
COPY planetkit/ planetkit/
COPY services/ services/
COPY gateway/ gateway/
COPY simulators/ simulators/
RUN python -m compileall -q /app
USER 10001:10001
EXPOSE 8080 50051 50052 50053
ENTRYPOINT ["python", "-m"]
CMD ["gateway"]
