FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY connectors connectors
COPY bots bots
COPY nlp nlp
COPY web web
RUN pip install --no-cache-dir .
ENV KITH_HOST=0.0.0.0 KITH_PORT=8000 KITH_LOG_JSON=true
EXPOSE 8000
USER nobody
CMD ["kith", "serve"]
