"""The HTTP benchmark's whole code path with tiny numbers: it produces figures (no timing is asserted)."""

from __future__ import annotations

from bench import Databases, Options
from bench import http as http_bench


def test_http_benchmark_produces_figures_for_every_operation_and_size(capsys) -> None:
    databases = Databases()
    try:
        results = http_bench.run(Options(quick=True, runs=3), databases, sizes=(5, 12))
    finally:
        databases.close()
    assert set(results) == {5, 12}
    for size in (5, 12):
        for operation in http_bench.OPERATIONS:
            wall, cpu = results[size][operation]
            assert len(wall.samples) == len(cpu.samples) == 3
            assert 0 < wall.p50 <= wall.p95
            assert cpu.p50 > 0
    printed = capsys.readouterr().out
    assert "12/5 p50: start x" in printed
    assert "spiff-arena" in printed
    assert "server CPU" in printed
    assert "my tasks" in printed
