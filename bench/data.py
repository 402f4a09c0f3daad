#!/usr/bin/env python
"""Measure how fast ``segviz.make_scenes`` and ``segviz.make_streets`` draw images (per second).

    python bench/data.py                   # 2000 scenes at 64x64 and at 128x128, median of 5,
                                           # and 2000 toy streets at 64x128
    python bench/data.py --sizes 64 256 --num-images 500 --repeats 3 --street-size 128 256

The targets, on a 2-core CPU: >= 2,000 scenes/s at 64x64 and >= 1,000 streets/s at 64x128, so a
training set is drawn in a second or two and never needs to be stored. Runs with torch's default
thread count and with one thread: on a busy machine (another process holding a core) torch's
intra-op threads wait for each other and two threads can be several times slower than one. Also
times a first pass over ``SyntheticScenes`` and ``ToyStreets`` (drawing and caching) and a second
one (cache only). A measurement, not a test: the machine is shared and noisy, so nothing here
fails because it is slow.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch

from segviz.data import SyntheticScenes, ToyStreets, make_scenes, make_streets


def scenes_per_second(num_images: int, size: int, repeats: int) -> tuple[float, float, float]:
    """Median, best and worst rate over ``repeats`` runs of ``make_scenes`` (seed = run)."""
    make_scenes(64, size=size)  # warm-up: allocator, thread pool
    rates = []
    for run in range(repeats):
        start = time.perf_counter()
        make_scenes(num_images, size=size, seed=run)
        rates.append(num_images / (time.perf_counter() - start))
    return statistics.median(rates), max(rates), min(rates)


def streets_per_second(num_images: int, size: tuple[int, int], repeats: int) -> tuple[float, float, float]:
    """Median, best and worst rate over ``repeats`` runs of ``make_streets`` (seed = run)."""
    make_streets(64, size=size)  # warm-up
    rates = []
    for run in range(repeats):
        start = time.perf_counter()
        make_streets(num_images, size=size, seed=run)
        rates.append(num_images / (time.perf_counter() - start))
    return statistics.median(rates), max(rates), min(rates)


def dataset_passes(num_images: int, size, dataset=SyntheticScenes) -> tuple[float, float]:
    """Items per second for a first (drawing) and a second (cached) pass over a data set."""
    data = dataset(num_images, size=size, seed=0)
    rates = []
    for _ in range(2):
        start = time.perf_counter()
        for index in range(len(data)):
            data[index]
        rates.append(num_images / (time.perf_counter() - start))
    return rates[0], rates[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--num-images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--street-size", type=int, nargs=2, default=[64, 128], metavar=("H", "W"))
    args = parser.parse_args(argv)
    print(
        f"# {platform.node()} | {os.cpu_count()} cores | torch {torch.__version__} "
        f"({torch.get_num_threads()} threads) | Python {platform.python_version()}"
    )
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        for size in args.sizes:
            median, best, worst = scenes_per_second(args.num_images, size, args.repeats)
            print(
                f"make_scenes({args.num_images}, size={size}), {threads} thread(s): {median:7.0f} "
                f"scenes/s median of {args.repeats} (best {best:.0f}, worst {worst:.0f})",
                flush=True,
            )
        street_size = tuple(args.street_size)
        median, best, worst = streets_per_second(args.num_images, street_size, args.repeats)
        print(
            f"make_streets({args.num_images}, size={street_size}), {threads} thread(s): "
            f"{median:7.0f} images/s median of {args.repeats} (best {best:.0f}, worst {worst:.0f})",
            flush=True,
        )
    torch.set_num_threads(default_threads)
    first, cached = dataset_passes(args.num_images, args.sizes[0])
    print(
        f"SyntheticScenes({args.num_images}, size={args.sizes[0]}) item by item: "
        f"{first:7.0f} items/s first pass, {cached:.0f} items/s cached"
    )
    first, cached = dataset_passes(args.num_images, tuple(args.street_size), ToyStreets)
    print(
        f"ToyStreets({args.num_images}, size={tuple(args.street_size)}) item by item: "
        f"{first:7.0f} items/s first pass, {cached:.0f} items/s cached"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
