"""A pipeline written in Python: built-in nodes (run as native Rust) mixed with Python nodes.

    pipeline run examples/python/pipeline.py <<< $'1\n2\n3'
    pipeline export examples/python/pipeline.py -o pipeline.json
"""
import pipeline


class Scale:
    """Multiplies each number by `factor`."""

    def __init__(self, factor):
        self.factor = factor

    def process(self, item):
        return item * self.factor


def odd_only(item):
    """Returning None emits nothing."""
    if item % 2 == 1:
        return item


class Stats:
    """Stateful: counts and sums the items, emits a summary at the end of the stream."""

    def __init__(self):
        self.n = 0
        self.total = 0

    def process(self, item):
        self.n += 1
        self.total += item

    def finish(self):
        print("stats:", self.n, "items")  # goes to the pipeline's log (stderr)
        return {"count": self.n, "sum": self.total}


def main():
    p = pipeline.Pipeline("mixed", description="add 1 (Rust) -> scale (Python) -> odd (Python) -> stats (Python, own thread)")
    add = p.node("CalculatorNode", id="add", operation="add", operand=1)
    scale = p.node(Scale, factor=3)
    stats = p.node(Stats, stage=True)
    add >> scale >> p.node(odd_only) >> stats
    return p
