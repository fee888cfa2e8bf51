"""Choice of the torch device and the float32 matmul precision of a run."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
MATMUL_PRECISIONS = ("highest", "high", "medium")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def resolve_device(request: str) -> torch.device:
    """Return the device for a request: ``auto`` picks CUDA, then MPS, then the CPU.

    Raises:
        ValueError: the request is unknown or names a device this machine does not have.
    """
    if request == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")

    kind = request.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {request!r}: use one of {', '.join(DEVICE_CHOICES)}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available: use --device cpu")
    if kind == "mps" and not _mps_available():
        raise ValueError("device 'mps' requested but MPS is not available: use --device cpu")
    return torch.device(request)


def apply_matmul_precision(precision: str) -> None:
    """Set torch's float32 matmul precision for this process (torch keeps it process-wide).

    ``highest`` keeps full float32 matmuls; ``high`` allows TF32 on GPUs that have it.
    """
    if precision not in MATMUL_PRECISIONS:
        raise ValueError(
            f"unknown matmul precision {precision!r}: use one of {', '.join(MATMUL_PRECISIONS)}"
        )
    torch.set_float32_matmul_precision(precision)
