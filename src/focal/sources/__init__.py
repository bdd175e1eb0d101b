"""Where originals come from: a local origin folder, or remote origins over HTTP(S)."""
