"""Small-cell suppression for funder views (domain.md §5–6): counts under a threshold are hidden.

Hiding a small cell is not enough when its row or column total is shown: the cell could be recomputed by
subtraction. Complementary suppression therefore hides, in every row and column (totals included) that
has exactly one hidden entry, the smallest visible entry as well, until no line has exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass

Grid = list[list[int | None]]


@dataclass(frozen=True)
class CountTable:
    """Counts of households (or events) by row and column; totals are derived, never given."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if len(self.cells) != len(self.rows) or any(len(line) != len(self.columns) for line in self.cells):
            raise ValueError("the cells do not match the rows and columns")

    def grid(self) -> list[list[int]]:
        """The cells with a total column on the right and a total row at the bottom."""
        body = [[*line, sum(line)] for line in self.cells]
        totals = [sum(line[index] for line in body) for index in range(len(self.columns) + 1)]
        return [*body, totals]


@dataclass(frozen=True)
class SuppressedTable:
    """A CountTable as published: None marks a hidden count (shown as "<5" or blank)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    total: int | None

    @property
    def hidden(self) -> int:
        """How many entries (cells and totals) are hidden."""
        entries = [*(v for line in self.cells for v in line), *self.row_totals, *self.column_totals, self.total]
        return sum(1 for value in entries if value is None)


def _lines(height: int, width: int) -> list[list[tuple[int, int]]]:
    rows = [[(r, c) for c in range(width)] for r in range(height)]
    columns = [[(r, c) for r in range(height)] for c in range(width)]
    return rows + columns


def _complementary(values: list[list[int]], hidden: set[tuple[int, int]]) -> None:
    height, width = len(values), len(values[0])
    changed = True
    while changed:
        changed = False
        for line in _lines(height, width):
            if sum(1 for position in line if position in hidden) != 1:
                continue
            visible = [position for position in line if position not in hidden]
            if not visible:
                continue
            # Prefer an inner cell over a total, then the smallest count: it loses the least information.
            is_total = [(r == height - 1 or c == width - 1) for r, c in visible]
            choice = min(zip(is_total, (values[r][c] for r, c in visible), visible, strict=True))[2]
            hidden.add(choice)
            changed = True


def suppress_small_cells(table: CountTable, threshold: int = 5) -> SuppressedTable:
    """Hide counts from 1 to ``threshold - 1`` (cells and totals), then what would let them be recomputed.

    Zero is shown: saying that nobody is in a cell identifies no one.
    """
    values = table.grid()
    hidden = {(r, c) for r, line in enumerate(values) for c, value in enumerate(line) if 0 < value < threshold}
    _complementary(values, hidden)
    shown: Grid = [[None if (r, c) in hidden else value for c, value in enumerate(line)]
                   for r, line in enumerate(values)]
    body, totals = shown[:-1], shown[-1]
    return SuppressedTable(table.rows, table.columns, tuple(tuple(line[:-1]) for line in body),
                           tuple(line[-1] for line in body), tuple(totals[:-1]), totals[-1])
