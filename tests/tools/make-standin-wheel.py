#!/usr/bin/env python3
"""Write a tiny, clearly-labelled stand-in wheel: make-standin-wheel.py NAME VERSION OUTDIR

Example: `make-standin-wheel.py torch 2.4.1+cu124 DIR` writes DIR/torch-2.4.1+cu124-py3-none-any.whl whose
`torch` module only has `__version__`, `DEVGPU_TEST_STANDIN = True` and a `cuda.is_available()` that says False.
The Docker tests serve it from a local wheelhouse so the generated Dockerfile's real `pip install` line
(with its CUDA-specific extra index) runs offline, without a multi-GB framework download.
It is NOT the real package. Prints the wheel's path.
"""
import base64
import hashlib
import re
import sys
import zipfile
from pathlib import Path


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    name, version, outdir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    dist = re.sub(r"[-_.]+", "_", name).lower()  # wheel file-name form of the project name
    module = dist
    dist_info = f"{dist}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": (
            f'"""devgpu test stand-in for {name} {version}: NOT the real package."""\n'
            f"__version__ = {version!r}\n"
            "DEVGPU_TEST_STANDIN = True\n\n\n"
            "class cuda:  # mimics torch.cuda.is_available() on a machine without a GPU\n"
            "    @staticmethod\n"
            "    def is_available():\n"
            "        return False\n"
        ),
        f"{dist_info}/METADATA": (
            "Metadata-Version: 2.1\n"
            f"Name: {name}\n"
            f"Version: {version}\n"
            "Summary: devgpu test stand-in (not the real package)\n"
        ),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\n"
            "Generator: devgpu-test make-standin-wheel.py\n"
            "Root-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
    }
    outdir.mkdir(parents=True, exist_ok=True)
    wheel = outdir / f"{dist}-{version}-py3-none-any.whl"
    record_lines = []
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, text in files.items():
            data = text.encode()
            zf.writestr(path, data)
            record_lines.append(f"{path},{record_hash(data)},{len(data)}")
        record_lines.append(f"{dist_info}/RECORD,,")
        zf.writestr(f"{dist_info}/RECORD", "\n".join(record_lines) + "\n")
    print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
