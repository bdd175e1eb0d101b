"""`python -m bench`: run the scenarios against a real server and the in-process floor."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyvips
from rich.console import Console

from bench import chains, hosted, load, sources
from bench.chains import EmbeddedChainWork
from bench.floor import FloorWork
from bench.memory import TreeSampler
from bench.procfs import cpu_seconds, descendants
from bench.report import Point, link_references, print_table, write_json
from bench.scenarios import CONCURRENCY, SCENARIOS, Scenario, select
from bench.server import RunningServer, Servers
from bench.stats import Measurement

QUICK_DIVISOR = 5  # --quick: a fifth of the requests, at least one pass over the files
ROUNDS = 3  # server and floor take turns this many times per level (once with --quick)
RESULTS = Path("bench-results/latest.json")


def _levels(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(","))


def _variable(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests: a smoke run")
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this scenario (repeatable): "
        + ", ".join([*(s.name for s in SCENARIOS), "calls"]),
    )
    parser.add_argument(
        "--concurrency",
        type=_levels,
        default=CONCURRENCY,
        metavar="N,N",
        help="comma-separated levels (default: 4,16)",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the in-process floor")
    parser.add_argument(
        "--server-env",
        type=_variable,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the server (repeatable), e.g. FOCAL_CONCURRENCY=4",
    )
    parser.add_argument(
        "--focal-src",
        type=Path,
        default=None,
        metavar="DIR",
        help="run the server from this src folder instead of the installed one",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON results file")
    return parser.parse_args(argv)


def request_count(scenario: Scenario, files: int, rounds: int, quick: bool) -> int:
    """Whole passes over the files in every round, so that every file weighs the same in
    server and floor."""
    wanted = scenario.requests // QUICK_DIVISOR if quick else scenario.requests
    return max(1, math.ceil(wanted / (files * rounds))) * files * rounds


def server_cpu(server: RunningServer) -> float:
    return cpu_seconds([server.pid, *descendants(server.pid)])


class ScenarioRun:
    """One scenario at every concurrency level.

    Each level alternates rounds of server load and floor (the server idles meanwhile), so
    that both see the same background load on a machine shared with other work: a burst of
    someone else's tests slows both sides of the ratio, not one. For the same reason a
    scenario compared by throughput with its reference takes turns with it, round by round.
    """

    def __init__(
        self, scenario: Scenario, origin: Path, paths: list[str], args: argparse.Namespace
    ) -> None:
        self.scenario = scenario
        self.origin = origin
        self.paths = paths
        self.levels: tuple[int, ...] = scenario.concurrency or args.concurrency
        self.warmed: set[int] = set()  # the servers (pids) this scenario warmed up
        self.rounds = 1 if args.quick else ROUNDS
        self.count = request_count(scenario, len(paths), self.rounds, args.quick)
        self.unique = (
            sources.unique_copies(origin, paths, self.count * len(self.levels), scenario.name)
            if scenario.unique
            else None
        )
        self.files = self.read(paths) if scenario.chain else []
        self.floor: FloorWork | EmbeddedChainWork | None = None
        if scenario.chain is not None and not args.no_floor:
            self.floor = EmbeddedChainWork(scenario.chain, self.files)
            self.floor.warm_up()
        elif scenario.floor is not None and not args.no_floor:
            self.floor = FloorWork(scenario.floor, self.read(paths))
            self.floor.warm_up()

    def round_paths(self, level: int, round_index: int) -> list[str]:
        """The originals one round requests: all files, or its own slice of unique copies."""
        if self.unique is None:
            return self.paths
        per_round = self.count // self.rounds
        start = level * self.count + round_index * per_round
        return self.unique[start : start + per_round]

    def run(
        self, servers: Servers, console: Console, reference: ScenarioRun | None = None
    ) -> list[Point]:
        """Every level; with `reference`, that scenario's rounds alternate with these (both
        on this scenario's levels and server)."""
        runs = [self] if reference is None else [reference, self]
        points = []
        for level, concurrency in enumerate(self.levels):
            env = dict(self.scenario.server_env)
            with servers.server(fresh=self.scenario.fresh_server, env=env) as server:
                for run in runs:
                    if server.pid not in run.warmed:
                        run.warm_up(server, console)
                        run.warmed.add(server.pid)
                points += measure(runs, server, level, concurrency, console)
        return points

    def warm_up(self, server: RunningServer, console: Console) -> None:
        """Each file once, so that first-use costs (imports, codec set-up) are not measured;
        on the base files, so that unique copies stay unseen, unless the scenario warms them."""
        scenario = self.scenario
        if scenario.chain is not None:
            errors = chains.run_remote(
                server.base_url, scenario.chain, self.files, 1, len(self.files)
            ).errors
        elif scenario.upload:
            files = self.read(self.paths)
            errors = hosted.run_uploads(server.base_url, files, 1, len(files)).errors
        else:
            warmed = self.unique if scenario.warm_unique and self.unique else self.paths
            if scenario.variant is not None:
                hosted.prepare_variant(
                    server.base_url, scenario.variant, scenario.options, self.origin, warmed
                )
            errors = load.warm_up(self.urls(server, warmed))
        if errors:
            console.print(f"[red]{scenario.name}: warm-up failed:[/red] {errors[0]}")

    def read(self, paths: list[str]) -> list[bytes]:
        return [(self.origin / path).read_bytes() for path in paths]

    def urls(self, server: RunningServer, paths: list[str]) -> list[str]:
        """What a GET scenario requests: a hosted variant, or /cdn-cgi/image/ options."""
        if self.scenario.variant is not None:
            return hosted.variant_urls(server.base_url, self.scenario.variant, paths)
        return load.image_urls(server.base_url, self.scenario.options, paths)

    def load(
        self, server: RunningServer, level: int, round_index: int, concurrency: int, count: int
    ) -> Measurement:
        """One round of requests: image URLs, uploads, or the scenario's SDK chain sent
        remotely."""
        if self.scenario.chain is not None:
            return chains.run_remote(
                server.base_url, self.scenario.chain, self.files, concurrency, count
            )
        paths = self.round_paths(level, round_index)
        if self.scenario.upload:
            return hosted.run_uploads(server.base_url, self.read(paths), concurrency, count)
        return load.run_load(self.urls(server, paths), concurrency, count)

    def measure_round(
        self,
        server: RunningServer,
        level: int,
        round_index: int,
        tally: Tally,
    ) -> None:
        """One round of server load, then the floor's (the server idles meanwhile)."""
        per_round = self.count // self.rounds
        server_before, client_before = server_cpu(server), time.process_time()
        result = self.load(server, level, round_index, tally.served.concurrency, per_round)
        result.cpu_seconds = server_cpu(server) - server_before
        tally.client_cpu += time.process_time() - client_before
        tally.served.absorb(result)
        if tally.floor is not None and self.floor is not None:
            tally.floor.absorb(self.floor.run(tally.served.concurrency, per_round))


@dataclass
class Tally:
    """What the rounds of one scenario at one level added up to."""

    served: Measurement
    floor: Measurement | None
    client_cpu: float = 0.0


def measure(
    runs: list[ScenarioRun],
    server: RunningServer,
    level: int,
    concurrency: int,
    console: Console,
) -> list[Point]:
    """One level of one scenario, or of several taking turns round by round."""
    for run in runs:
        console.print(f"{run.scenario.name}: {run.count} requests at concurrency {concurrency}…")
    load_average = os.getloadavg()[0]
    tallies = [
        Tally(
            Measurement(concurrency, 0, 0.0),
            Measurement(concurrency, 0, 0.0) if run.floor is not None else None,
        )
        for run in runs
    ]
    with TreeSampler(server.pid) as sampler:
        for round_index in range(max(run.rounds for run in runs)):
            for run, tally in zip(runs, tallies, strict=True):
                if round_index < run.rounds:
                    run.measure_round(server, level, round_index, tally)
    return [
        Point(run.scenario, tally.served, tally.floor, sampler.peak, tally.client_cpu, load_average)
        for run, tally in zip(runs, tallies, strict=True)
    ]


def context(args: argparse.Namespace, started: datetime.datetime) -> dict[str, object]:
    focal_env = {name: value for name, value in os.environ.items() if name.startswith("FOCAL_")}
    return {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 1),
        "quick": args.quick,
        "focal_src": None if args.focal_src is None else str(args.focal_src),
        "server_environment": {**focal_env, **dict(args.server_env)},
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_end": [round(value, 2) for value in os.getloadavg()],
            "python": platform.python_version(),
            "libvips": ".".join(str(pyvips.version(part)) for part in range(3)),
        },
    }


CALLS = "calls"  # the SFU's scenario (bench/calls.py): media, not image requests


def run_calls(output: Path, console: Console) -> None:
    from bench import calls

    console.print("calls: the SFU, one publisher at 1.5 Mbps + audio, growing subscribers")
    result = calls.run()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"calls results written to {output}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    console = Console()
    if CALLS in args.scenario or not args.scenario:
        run_calls(args.output.with_name("calls.json"), console)
        if args.scenario == [CALLS]:
            return 0
        args.scenario = [name for name in args.scenario if name != CALLS]
    started = datetime.datetime.now(datetime.UTC)
    scenarios = select(args.scenario)
    points: list[Point] = []
    console.print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="focal-bench-") as temporary:
        data_dir = Path(temporary)
        origin = data_dir / "origin"
        source_sets = sources.prepare(origin, {scenario.sources for scenario in scenarios})
        log_dir = args.output.parent  # server logs outlive the temporary folder
        # The result cache is off unless a scenario asks for it: the others measure the work.
        server_env = {
            "FOCAL_API_TOKENS": chains.TOKEN,
            "FOCAL_RESULT_CACHE_BYTES": "0",
            **dict(args.server_env),
        }
        with Servers(data_dir, origin, log_dir, args.focal_src, server_env) as servers:
            # A reference compared by throughput is measured with the scenario naming it.
            paired = {s.reference for s in scenarios if s.reference_throughput_target is not None}
            by_name = {scenario.name: scenario for scenario in scenarios}

            def new_run(scenario: Scenario) -> ScenarioRun:
                return ScenarioRun(scenario, origin, source_sets[scenario.sources], args)

            for scenario in scenarios:
                if scenario.name in paired:
                    continue
                reference = None
                if scenario.reference is not None and scenario.reference_throughput_target:
                    reference = new_run(by_name[scenario.reference])
                points += new_run(scenario).run(servers, console, reference)
    link_references(points)
    print_table(points, console)
    write_json(args.output, points, context(args, started))
    console.print(f"results written to {args.output}")
    console.print(PEERS_LINE)
    return 1 if any(point.server.errors for point in points) else 0


# The floor above is Focal's own; the reference for its speed goals is the peers' harness.
PEERS_LINE = (
    "Against thumbor, sharp and the libvips floor in one run: bash bench/peers.sh "
    "(about 10 minutes, nothing else running); last figures in docs/benchmarks.md"
)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
