# imvo-workflow: one image for the migration step, the web app and the scheduler.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Installed, not checked out: the wheel carries the workflow definition and the migrations.
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . && rm -rf src build && mkdir -p /app/var && chown nobody /app/var
USER nobody
EXPOSE 8000
ENTRYPOINT ["imvo"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
