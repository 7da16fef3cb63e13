# One image for the web, worker and beat processes (docker-compose.yml picks the command).
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build_static.sh scripts/
COPY static/scss static/scss
RUN bash scripts/build_static.sh

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEBUG=false
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
COPY --from=assets /app/static/dist static/dist
# collectstatic needs a key to import the settings; the real one comes from the environment at run time.
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input --verbosity 0
RUN useradd --system --home /app dma && mkdir -p var && chown -R dma var
USER dma
EXPOSE 8000
# The same web command as the Procfile: threaded workers, sized by WEB_CONCURRENCY, WEB_THREADS and WEB_TIMEOUT at run
# time (a shell expands them; exec hands PID 1 to gunicorn so it gets the stop signal).
CMD ["sh", "-c", "exec gunicorn config.wsgi --bind 0.0.0.0:8000 --worker-class gthread --workers ${WEB_CONCURRENCY:-2} --threads ${WEB_THREADS:-4} --timeout ${WEB_TIMEOUT:-120} --graceful-timeout 30 --keep-alive 5 --access-logfile -"]
