# wedwatch: one image, one command; each compose service runs a subcommand
# (`platform`, `exporter`, `receiver`, ...). Build: docker build -t wedwatch .
# WEDWATCH_EXTRAS=forecast (the default) adds Prophet for the receiver's forecasts (~300 MB);
# --build-arg WEDWATCH_EXTRAS= builds without it.

FROM python:3.11-slim AS build
ARG WEDWATCH_EXTRAS=forecast
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# A virtualenv holds the package and its dependencies, so the final stage copies one directory
# and carries neither the sources nor pip's build leftovers.
RUN python -m venv /opt/wedwatch
WORKDIR /src
# README.md is the package's long description (pyproject.toml: readme), so the build needs it.
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/wedwatch/bin/pip install ".${WEDWATCH_EXTRAS:+[$WEDWATCH_EXTRAS]}"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/wedwatch/bin:$PATH
COPY --from=build /opt/wedwatch /opt/wedwatch
# A fixed uid so that volume ownership is the same on every host. /var/lib/wedwatch/calendar exists
# in the image, owned by wedwatch, so a named volume mounted there starts owned by wedwatch too.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/wedwatch --shell /usr/sbin/nologin wedwatch \
    && mkdir -p /etc/wedwatch /var/lib/wedwatch/calendar \
    && chown -R wedwatch:wedwatch /var/lib/wedwatch
USER wedwatch
WORKDIR /var/lib/wedwatch
# platform, exporter, receiver
EXPOSE 8085 9839 9840
ENTRYPOINT ["wedwatch"]
CMD ["--help"]
