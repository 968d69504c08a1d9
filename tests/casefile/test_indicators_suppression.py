"""Small-cell suppression for funder views: primary and complementary suppression, totals, edge cases."""

from __future__ import annotations

import itertools

import pytest

from casefile.indicators import (
    CountTable,
    Period,
    exits_by_destination,
    funder_exits_by_destination,
    suppress_small_cells,
)
from tests.casefile.indicators_seed import PERIOD_END, PERIOD_START, seed


def table(*cells: tuple[int, ...]) -> CountTable:
    return CountTable(tuple(f"r{i}" for i in range(len(cells))), tuple(f"c{j}" for j in range(len(cells[0]))),
                      tuple(cells))


def recomputable(published, original: CountTable) -> list[tuple[int, int]]:
    """Hidden cells that a reader could work out from one row or column and its total."""
    found = []
    for r, line in enumerate(published.cells):
        if line.count(None) == 1 and published.row_totals[r] is not None:
            found.append((r, line.index(None)))
    for c in range(len(original.columns)):
        column = [line[c] for line in published.cells]
        if column.count(None) == 1 and published.column_totals[c] is not None:
            found.append((column.index(None), c))
    return found


def test_nothing_small_nothing_hidden() -> None:
    published = suppress_small_cells(table((10, 20), (30, 0)))
    assert published.cells == ((10, 20), (30, 0))
    assert (published.row_totals, published.column_totals, published.total) == ((30, 30), (40, 20), 60)
    assert published.hidden == 0


def test_a_small_cell_and_its_complements_are_hidden() -> None:
    published = suppress_small_cells(table((3, 20, 12), (8, 9, 30)))
    # 3 is hidden; then its row's smallest other cell (12), its column's (8), and 30, which keeps the
    # third column from giving 12 away. Each row and column now has two unknowns.
    assert published.cells == ((None, 20, None), (None, 9, None))
    assert (published.row_totals, published.column_totals, published.total) == ((35, 47), (11, 29, 42), 82)
    assert recomputable(published, table((3, 20, 12), (8, 9, 30))) == []


def test_a_small_total_is_hidden_with_what_reveals_it() -> None:
    published = suppress_small_cells(table((1, 2), (10, 20)))
    # Row 0 totals 3 (< 5): hidden with its cells; column totals 11 and 22 would give 1 and 2 away from the
    # 10 and 20 below, so one of those is hidden, and then its partner in row 1.
    assert published.row_totals[0] is None
    assert published.cells[0] == (None, None)
    assert published.cells[1] == (None, None)
    assert published.total == 33


def test_zero_is_shown() -> None:
    published = suppress_small_cells(table((0, 7), (6, 9)))
    assert published.hidden == 0


def test_all_cells_suppressed() -> None:
    published = suppress_small_cells(table((1, 2), (3, 4)))
    assert published.cells == ((None, None), (None, None))
    # Totals of 3 and 4 are small as well; 6 would give 4 away from the grand total, 7 would give 3 away:
    # only the grand total stays.
    assert (published.row_totals, published.column_totals, published.total) == ((None, None), (None, None), 10)
    assert published.hidden == 8


def test_single_column_hides_the_total_that_gives_a_cell_away() -> None:
    published = suppress_small_cells(table((2,), (40,)))
    # With one column the row total equals the cell: both go; the column total 42 minus 40 would give 2
    # away, so 40 (and its equal row total) go too.
    assert published.cells == ((None,), (None,))
    assert published.row_totals == (None, None)
    assert published.column_totals == (42,)


def test_threshold_is_configurable() -> None:
    assert suppress_small_cells(table((3, 10), (10, 10)), threshold=3).hidden == 0
    assert suppress_small_cells(table((3, 10), (10, 10)), threshold=4).hidden > 0


@pytest.mark.parametrize("cells", [
    ((1, 6, 7), (5, 2, 9), (8, 8, 3)),
    ((4, 40, 40, 40), (40, 40, 40, 40)),
    ((12, 3), (0, 0), (9, 1)),
])
def test_no_hidden_cell_can_be_recomputed(cells) -> None:
    original = table(*cells)
    published = suppress_small_cells(original)
    small = [(r, c) for r, c in itertools.product(range(len(cells)), range(len(cells[0]))) if 0 < cells[r][c] < 5]
    assert all(published.cells[r][c] is None for r, c in small)
    assert recomputable(published, original) == []


def test_cells_must_match_the_labels() -> None:
    with pytest.raises(ValueError, match="do not match"):
        CountTable(("a",), ("x", "y"), ((1,),))


def test_empty_table() -> None:
    published = suppress_small_cells(CountTable((), ("a", "b"), ()))
    assert (published.cells, published.row_totals, published.column_totals, published.total) == ((), (), (0, 0), 0)


def test_funder_view_of_the_seeded_exits(session, users) -> None:
    seed(session)
    period = Period(PERIOD_START, PERIOD_END)
    counts = exits_by_destination(session, period)
    # H3 (subentro) and H6 (30) for the lead partner, H5 (204) for the partner.
    assert counts.rows == ("Ente capofila", "Ente partner")
    assert counts.columns == ("permanent", "temporary", "institutional", "homeless", "other")
    assert counts.cells == ((1, 0, 0, 0, 1), (0, 0, 1, 0, 0))
    published = funder_exits_by_destination(session, period)
    # Every count is under 5: all of them, and every total, are hidden; zeros stay.
    assert published.cells == ((None, 0, 0, 0, None), (0, 0, None, 0, 0))
    assert (published.row_totals, published.column_totals, published.total) == (
        (None, None), (None, 0, None, 0, None), None)
    assert funder_exits_by_destination(session, period, threshold=1).hidden == 0
