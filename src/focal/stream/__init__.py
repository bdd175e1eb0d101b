"""Live streams: RTMP ingest, recording by remuxing, HLS playback and instant clips."""
