#!/usr/bin/env python3
"""Times fdatasync on the filesystem of directory DIR: COUNT rounds of
an 8 KiB overwrite in a file of 1.6 MiB, then its fdatasync, as a
commit to SQLite's write-ahead log does. Prints one line of figures for
bench/run: `fsync p50 MS p99 MS`.

    bench/fsync.py DIR [COUNT]
"""

import os
import sys
import time


def main():
    directory = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    path = os.path.join(directory, "fsync-probe")
    block = b"x" * 8192
    times = []
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        # Allocated and synced first, so that each round overwrites
        # and no fdatasync has a new file size to write as well.
        os.write(fd, block * 200)
        os.fsync(fd)
        for i in range(count):
            os.pwrite(fd, block, (i % 200) * len(block))
            start = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    print("fsync p50 %.2f p99 %.2f" % (times[len(times) // 2],
                                       times[int(len(times) * 0.99)]))


if __name__ == "__main__":
    main()
