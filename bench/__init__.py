"""`make bench`: Focal's HTTP throughput, latency and memory against an in-process floor.

The server runs as a real subprocess on 127.0.0.1; the floor is bare pyvips (thumbnail +
encode) on the same files in the same run, so results are ratios that survive noisy machines.
"""
