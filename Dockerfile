# Sigma: the server (`app`: dashboard and API), the API alone (`api`) and the queue workers (`worker`)
# run from this one image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STORAGE_DIR=/data

WORKDIR /app

# A font with Cyrillic, so the report's timeline picture keeps its Russian labels (core/timeline_image.py
# looks for DejaVu Sans; python:3.11-slim has no fonts at all).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# Dependencies in their own layer: rebuilt only when requirements.txt changes. ffmpeg comes with the
# imageio-ffmpeg wheel (not apt); the second command fails the build if the binary is missing.
COPY requirements.txt .
RUN pip install -r requirements.txt \
 && python -c "import imageio_ffmpeg, subprocess; subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-version'], check=True, capture_output=True)"

RUN useradd --create-home --uid 10001 sigma \
 && mkdir -p /data \
 && chown sigma:sigma /data

COPY --chown=sigma:sigma . .

USER sigma
VOLUME ["/data"]
EXPOSE 8501 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"

# the one server: the dashboard with the API beside it and the sign-in in front (server.py)
CMD ["python", "-m", "uvicorn", "server:app", "--host=0.0.0.0", "--port=8501"]
