"""Thread settings shared by the PyTorch step scripts; they must take effect before torch is imported.

Torch's set_num_threads sets OpenMP's count (and MKL's) but not OpenBLAS's, which reads its
environment when it is loaded, so both counts are set in the environment first. With Debian's
OpenBLAS (pthread build), torch's OpenMP threads, which by default spin for a while after each
parallel region, and OpenBLAS's own threads fight over the cores: on 2 cores B2's MB step took
~150 ms with the default policy against ~50 ms with PASSIVE (or with the OpenMP build of
OpenBLAS). PASSIVE is the fair setting for PyTorch here; --omp-wait-policy unset to compare.
"""

import os


def add_thread_args(parser):
    """Adds --threads and --omp-wait-policy."""
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="OpenMP and OpenBLAS threads (default: the CPUs this process may use)")
    parser.add_argument("--omp-wait-policy", default="passive",
                        help="OMP_WAIT_POLICY set before torch loads unless it is already in the "
                             "environment (default passive; 'unset' leaves it alone)")


def set_thread_env(args):
    """Sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and OMP_WAIT_POLICY; call before importing torch."""
    if args.threads < 1:
        raise SystemExit("--threads must be at least 1")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    if args.omp_wait_policy.lower() != "unset" and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
