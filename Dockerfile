# One image for every service: web (gunicorn), worker and beat (Celery), migrate, simulator.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DASHBOARD_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/staticfiles

RUN useradd --system --uid 10001 --create-home --home-dir /home/app app

WORKDIR /app
COPY . .
# The code runs from /app (templates and static sit beside it); the install brings the
# dependencies and the icws-simulator script.
RUN pip install . \
    && DJANGO_SECRET_KEY=collectstatic-only-not-used-at-run-time \
       python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var && chown app:app /app/var

USER app
EXPOSE 8000
# gthread workers (2 x 8 threads): gunicorn.conf.py says why.
CMD ["gunicorn", "dashboard.wsgi:application", "--config", "gunicorn.conf.py"]
