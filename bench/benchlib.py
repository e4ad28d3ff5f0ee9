"""Shared helpers of the end-to-end benchmark scripts (parse-throughput, replay-throughput).

Generates realistic AWS VPC flow logs in the default (v2) format and times commands
best-of-N, so the scripts stay short and measure the same way.
"""
import glob
import gzip
import os
import random
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
FLOWLIER = os.environ.get("FLOWLIER", os.path.join(BUILD, "flowlier"))
DATA_DIR = os.path.join(BUILD, "bench-data")

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
SERVICE_PORTS = [443, 443, 443, 80, 53, 22, 3306, 5432, 6379, 8080, 123, 9092]


def generate_aws_v2(path, lines, seed=1, enis=2000, hours=1.0, start=1754319600):
    """Writes `lines` default-format records (plus the header) to `path`.

    A pool of `enis` interfaces, each with its own private address and a few hundred
    usual peers (private and public IPv4), TCP (85%) and UDP, ports, ACCEPT (95%) /
    REJECT, about 1% NODATA; start times advance over `hours` with up to 60 s of
    jitter, as in an S3 delivery (records of one 10-minute batch are not sorted).
    """
    rng = random.Random(seed)
    accounts = ["123456789012", "210987654321", "555566667777"]
    pool = []
    for i in range(enis):
        eni = "eni-%017x" % rng.getrandbits(68)
        ip = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
        peers = []
        for _ in range(rng.randrange(20, 300)):
            if rng.random() < 0.4:
                peers.append("%d.%d.%d.%d" % (rng.choice([3, 13, 18, 34, 52, 54, 104, 142, 151, 172, 185, 203]),
                                              rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)))
            else:
                peers.append("10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)))
        pool.append((accounts[i % len(accounts)], eni, ip, peers, rng.choice(SERVICE_PORTS)))
    span = int(hours * 3600)
    tmp = path + ".tmp"
    rand = rng.random
    randrange = rng.randrange
    with open(tmp, "w") as out:
        out.write(HEADER)
        buf = []
        for n in range(lines):
            account, eni, ip, peers, port = pool[int(enis * rand() ** 2)]  # some interfaces much busier
            t = start + span * n // lines + randrange(60)
            end = t + randrange(1, 60)
            if rand() < 0.01:
                buf.append("2 %s %s - - - - - - - %d %d - NODATA\n" % (account, eni, t, end))
            else:
                peer = peers[randrange(len(peers))]
                service = port if rand() < 0.7 else SERVICE_PORTS[randrange(len(SERVICE_PORTS))]
                ephemeral = randrange(1024, 65536)
                proto = 6 if rand() < 0.85 else 17
                packets = 1 + int(rand() ** 3 * 2000)
                nbytes = packets * randrange(40, 1500)
                action = "ACCEPT" if rand() < 0.95 else "REJECT"
                if rand() < 0.5:  # the interface serves
                    buf.append("2 %s %s %s %s %d %d %d %d %d %d %d %s OK\n" % (
                        account, eni, peer, ip, ephemeral, service, proto, packets, nbytes, t, end, action))
                else:  # the interface is the client
                    buf.append("2 %s %s %s %s %d %d %d %d %d %d %d %s OK\n" % (
                        account, eni, ip, peer, ephemeral, service, proto, packets, nbytes, t, end, action))
            if len(buf) >= 65536:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))
    os.replace(tmp, path)


def cached_aws_v2(lines, seed=1):
    """The generated file for (lines, seed), created once under build/bench-data."""
    os.makedirs(DATA_DIR, exist_ok=True)
    path = os.path.join(DATA_DIR, "aws-v2-%d-s%d.log" % (lines, seed))
    if not os.path.exists(path):
        print("generating %s (%d records) ..." % (path, lines), file=sys.stderr, flush=True)
        generate_aws_v2(path, lines, seed)
    return path


def cached_sim(days=1, scale=1.0, seed=1):
    """One plain file of `flowlier sim --days D --scale S --seed N` (AWS default format),
    created once under build/bench-data: its gzip S3-style files decompressed and
    concatenated (later files' header lines are kept: the decoder takes them as format
    changes), so neither side of a comparison pays for gunzip. The default (1 day, scale
    1, seed 1) is replay-throughput's file, named as it always was."""
    name = "sim-d%d-s%d" % (days, seed) if scale == 1.0 else "sim-d%d-x%g-s%d" % (days, scale, seed)
    out = os.path.join(DATA_DIR, name)
    plain = out + ".log"
    if os.path.exists(plain):
        return plain
    os.makedirs(out, exist_ok=True)
    print("simulating into %s ..." % out, file=sys.stderr, flush=True)
    subprocess.run([FLOWLIER, "sim", "--out", out, "--days", str(days), "--scale", str(scale), "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL)
    files = sorted(glob.glob(os.path.join(out, "**", "*.gz"), recursive=True))
    if not files:
        sys.exit("sim wrote no .gz files under " + out)
    with open(plain + ".tmp", "wb") as dst:
        for name in files:
            with gzip.open(name, "rb") as src:
                data = src.read()
            dst.write(data if data.endswith(b"\n") else data + b"\n")
    os.replace(plain + ".tmp", plain)
    return plain


def count_records(path):
    """Lines that are not AWS header lines (those start with "version ")."""
    records = 0
    with open(path, "rb") as f:
        for line in f:
            if not line.startswith(b"version "):
                records += 1
    return records


def time_command(argv, runs=3, stdout=subprocess.DEVNULL, check=True):
    """Best of `runs`: (wall seconds, user+sys CPU seconds) of the fastest run by wall time."""
    best = None
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if check and proc.returncode != 0:
            sys.exit("command failed (%d): %s\n%s" % (proc.returncode, " ".join(argv), proc.stderr.decode()[-2000:]))
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best


def require_flowlier():
    if not os.access(FLOWLIER, os.X_OK):
        sys.exit("%s is missing: build first (make build, or cmake --build build)" % FLOWLIER)


def report(rows, records, baseline_label="wc -l"):
    """Prints one line per (label, argv, wall, cpu) with records/s and the ratio to the baseline row."""
    base_wall = next(r[2] for r in rows if r[0] == baseline_label)
    print("%-34s %9s %9s %14s %14s %8s" % ("measure", "wall s", "cpu s", "records/s", "rec/cpu-s", "x wc -l"))
    for label, _argv, wall, cpu in rows:
        print("%-34s %9.3f %9.3f %14s %14s %8.1f" % (label, wall, cpu, "{:,.0f}".format(records / wall),
                                                  "{:,.0f}".format(records / cpu) if cpu > 0 else "-",
                                                  wall / base_wall))
    for label, argv, _w, _c in rows:
        print("  %s: %s" % (label, " ".join(argv)))
