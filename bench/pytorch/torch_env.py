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


def add_device_args(parser):
    """Adds --device, --tf32 and --cudnn-benchmark."""
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where the step runs (default cpu); cuda times each step with "
                             "torch.cuda.synchronize before the clock is read")
    parser.add_argument("--tf32", action="store_true",
                        help="TF32 tensor-core math for float32 GEMMs and convolutions (cuda only; "
                             "off by default, as in idemnet: compare with idemnet's -p tf32=true)")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="torch.backends.cudnn.benchmark = True (cuDNN times its algorithms per "
                             "shape and keeps the fastest; PyTorch's default is off)")


def _set_tf32(torch, on):
    """Sets TF32 for cuBLAS and cuDNN through one API and returns what it reads back.

    PyTorch 2.9 and newer have fp32_precision ("ieee" or "tf32") and warn that the older
    allow_tf32 flags will go; older versions have only allow_tf32. Mixing the two is not
    supported, so only the newest one present is used. Note that cudnn.allow_tf32 is True by
    default in every version: left alone, PyTorch's convolutions would use TF32.
    """
    matmul = torch.backends.cuda.matmul
    conv = getattr(torch.backends.cudnn, "conv", None)
    if hasattr(matmul, "fp32_precision") and conv is not None and hasattr(conv, "fp32_precision"):
        matmul.fp32_precision = "tf32" if on else "ieee"
        conv.fp32_precision = "tf32" if on else "ieee"
        return {"api": "fp32_precision", "matmul": matmul.fp32_precision, "cudnn_conv": conv.fp32_precision}
    matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on
    return {"api": "allow_tf32", "matmul": matmul.allow_tf32, "cudnn_conv": torch.backends.cudnn.allow_tf32}


def setup_device(args, needs_cudnn=False):
    """Returns (torch.device, info dict) for --device; on cuda sets TF32 and cuDNN as asked.

    Exits with a message when cuda is asked for but not usable, when --tf32 is given for the cpu,
    and (needs_cudnn) when the step has convolutions and cuDNN is not available or disabled: a
    GPU comparison against PyTorch without cuDNN would be meaningless.
    """
    import platform

    import torch

    info = {"device": args.device, "torch_version": torch.__version__, "tf32": bool(args.tf32),
            "python": platform.python_version()}
    if args.device == "cpu":
        if args.tf32:
            raise SystemExit("--tf32 applies to --device cuda only")
        return torch.device("cpu"), info
    if not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False (torch "
                         f"{torch.__version__}, built for CUDA {torch.version.cuda})")
    dev = torch.device("cuda")
    info["tf32_settings"] = _set_tf32(torch, bool(args.tf32))
    torch.backends.cudnn.benchmark = bool(args.cudnn_benchmark)
    cudnn_ok = torch.backends.cudnn.is_available() and torch.backends.cudnn.enabled
    if needs_cudnn and not cudnn_ok:
        raise SystemExit("FATAL: cuDNN is not available or disabled in this torch; the convolution "
                         "steps would not be PyTorch with cuDNN")
    props = torch.cuda.get_device_properties(dev)
    info.update({
        "gpu_name": torch.cuda.get_device_name(dev),
        "gpu_capability": f"{props.major}.{props.minor}",
        "gpu_memory_gib": round(props.total_memory / 2**30, 1),
        "cuda_version": torch.version.cuda,
        "cudnn_version": torch.backends.cudnn.version() if cudnn_ok else None,
        "cudnn_benchmark": bool(args.cudnn_benchmark),
    })
    return dev, info


def loaded_libraries(*needles):
    """Paths of the shared libraries mapped into this process whose path contains any needle."""
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and any(n in parts[-1] for n in needles) and parts[-1] not in libs:
                    libs.append(parts[-1])
    except OSError:
        pass
    return libs


def synchronizer(device):
    """A function that waits for the device's queued work (nothing to wait for on the cpu)."""
    if device.type == "cuda":
        import torch
        return torch.cuda.synchronize
    return lambda: None
