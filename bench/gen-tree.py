#!/usr/bin/env python3
"""Generate a synthetic ML repository for bench/init-walk.sh (Python stdlib only).

    python3 bench/gen-tree.py --out .bench/tree [--files 100000] [--no-decoys] [--seed 1]

The tree is a realistic mix: a `src/` package tree, tests, docs, data files, examples with their own
(ignored) requirements, and -- unless --no-decoys -- the folders devgpu must never look into:
`.git`, `node_modules` (tens of thousands of files), `.venv` with `site-packages` full of
`requirements.txt` / `pyproject.toml` / `setup.py` with CUDAExtension / `.cu` / notebooks, a virtualenv
under another name (found by its `pyvenv.cfg`), a conda environment (found by `conda-meta/`),
`build/`, `__pycache__`, `*.egg-info`, `.ipynb_checkpoints`.

The non-decoy part has no `.cu` file and no notebook, so a decoy that leaked into the scan would change
the resolved stack (`devel` image, Jupyter extension). Each part draws from its own seeded RNG, so the
tree without decoys holds exactly the same other files as the tree with them. --files counts the files
of the full tree (with decoys); --no-decoys writes that tree minus the decoy folders.
"""

import argparse
import os
import random
import shutil
import sys

DECOY_SHARE = {  # share of --files per decoy part
    "git": 0.03,
    "node_modules": 0.40,
    "venv": 0.25,
    "named_venv": 0.03,
    "conda_env": 0.05,
    "build": 0.02,
    "pycache": 0.03,
    "egg_info": 0.001,
    "checkpoints": 0.001,
}
REAL_SHARE = {"src": 0.08, "tests": 0.015, "docs": 0.01, "examples": 0.005}  # data/ gets the rest

WORDS = ("core utils models layers data io train eval metrics optim sched vision text audio "
         "losses blocks heads backbones ops kernels dist config cli viz export serve").split()


class Writer:
    def __init__(self, root):
        self.root = root
        self.count = 0
        self.dirs = set()

    def write(self, rel, text=""):
        path = os.path.join(self.root, rel)
        d = os.path.dirname(path)
        if d not in self.dirs:
            os.makedirs(d, exist_ok=True)
            self.dirs.add(d)
        with open(path, "w") as f:
            f.write(text)
        self.count += 1


def name(rng):
    return rng.choice(WORDS) + ("_" + rng.choice(WORDS) if rng.random() < 0.5 else "")


def gen_root(w):
    w.write("requirements.txt",
            "--extra-index-url https://download.pytorch.org/whl/cu121\n"
            "torch==2.4.1+cu121\ntorchvision==0.19.1+cu121\nnumpy>=1.26,<2\ntqdm\n")
    w.write("pyproject.toml", '[tool.ruff]\nline-length = 110\n')
    w.write(".python-version", "3.11\n")
    w.write("README.md", "# bench repo\n")
    w.write(".gitignore", ".venv/\nnode_modules/\nbuild/\n__pycache__/\n")


def gen_tree(w, rng, base, n, exts, depth=(2, 4), fanout=12, content=""):
    dirs = [base]
    made = 0
    while made < n:
        parent = rng.choice(dirs)
        if parent.count("/") - base.count("/") < depth[1] and rng.random() < 1.0 / fanout:
            d = f"{parent}/{name(rng)}{rng.randrange(100)}"
            dirs.append(d)
            continue
        w.write(f"{parent}/{name(rng)}_{made}{rng.choice(exts)}", content)
        made += 1


def gen_src(w, rng, n):
    gen_tree(w, rng, "src/benchpkg", n, [".py"] * 9 + [".pyi"], content="def f():\n    return 1\n")


def gen_examples(w, rng, n):
    # examples have their own dependency files; they are not the project's
    for i in range(max(1, n // 50)):
        w.write(f"examples/ex{i}/requirements.txt", "tensorflow==2.15.0\njax==0.4.1\n")
        w.write(f"examples/ex{i}/environment.yml", "name: ex\ndependencies:\n  - python=3.7\n")
        w.write(f"examples/ex{i}/pyproject.toml", "[project]\nname = 'ex'\ndependencies = ['paddlepaddle-gpu']\n")
    gen_tree(w, rng, "examples", n - 3 * max(1, n // 50), [".py", ".md", ".yaml"])


def gen_data(w, rng, n):
    gen_tree(w, rng, "data", n, [".npy", ".json", ".png", ".jpg", ".csv", ".parquet"], depth=(1, 3), fanout=30)


def gen_git(w, rng, n):
    w.write(".git/HEAD", "ref: refs/heads/main\n")
    for i in range(n - 1):
        h = "%040x" % rng.getrandbits(160)
        w.write(f".git/objects/{h[:2]}/{h[2:]}")


def gen_node_modules(w, rng, n):
    made = 0
    pkg = 0
    while made < n:
        p = f"node_modules/{name(rng).replace('_', '-')}-{pkg}"
        pkg += 1
        files = ["package.json", "index.js", "README.md", "LICENSE", "lib/main.js", "lib/util.js", "dist/bundle.js"]
        if pkg % 40 == 0:  # node-gyp style Python inside node_modules
            files += ["gyp/requirements.txt", "gyp/pyproject.toml", "gyp/setup.py", "src/kernel.cu", "docs/demo.ipynb"]
        if pkg % 7 == 0:
            files += [f"node_modules/dep{k}/index.js" for k in range(5)]
        for f in files:
            if made >= n:
                break
            text = {"gyp/requirements.txt": "torch==1.4.0\n", "gyp/pyproject.toml": "[project\nbroken = \n",
                    "gyp/setup.py": "from torch.utils.cpp_extension import CUDAExtension\n"}.get(f, "")
            w.write(f"{p}/{f}", text)
            made += 1


def gen_site_packages(w, rng, base, n, pyver="3.11"):
    sp = f"{base}/lib/python{pyver}/site-packages"
    made = 0
    pkg = 0
    while made < n:
        p = f"{sp}/{name(rng)}{pkg}"
        pkg += 1
        files = ["__init__.py", "core.py", "utils.py", "_version.py"]
        if pkg % 10 == 0:
            files += ["requirements.txt", "pyproject.toml", "setup.py", "environment.yml", "csrc/op.cu",
                      "include/op.cuh", "CMakeLists.txt", "examples/demo.ipynb"]
        for f in files:
            if made >= n:
                break
            text = {"requirements.txt": "tensorflow-gpu==1.15\n",
                    "pyproject.toml": "[project]\nname='decoy'\nrequires-python='==3.6.*'\n",
                    "setup.py": "from torch.utils.cpp_extension import CUDAExtension, BuildExtension\n",
                    "environment.yml": "dependencies:\n  - python=3.6\n  - cudatoolkit=10.0\n",
                    "CMakeLists.txt": "project(decoy LANGUAGES CXX CUDA)\n"}.get(f, "")
            w.write(f"{p}/{f}", text)
            made += 1
        if made < n and pkg % 3 == 0:
            w.write(f"{sp}/{name(rng)}{pkg}-1.0.dist-info/METADATA", "Requires-Dist: torch\n")
            made += 1


def gen_venv(w, rng, n):
    w.write(".venv/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.9\n")
    gen_site_packages(w, rng, ".venv", n - 1)


def gen_named_venv(w, rng, n):
    # a virtualenv that is not called venv/.venv: only its pyvenv.cfg tells
    w.write("py311-cuda/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.9\n")
    w.write("py311-cuda/include/site/python3.11/greenlet.cuh", "")
    gen_site_packages(w, rng, "py311-cuda", n - 2)


def gen_conda_env(w, rng, n):
    # a conda environment under any name: only its conda-meta/ tells
    meta, headers = min(200, n // 10), min(300, n // 5)
    w.write("envs/cuda/conda-meta/history", "+pytorch-2.3.0-py3.11_cuda12.1_cudnn8.9.2_0\n")
    for i in range(meta):
        w.write(f"envs/cuda/conda-meta/pkg{i}-1.0-0.json", "{}")
    for i in range(headers):
        w.write(f"envs/cuda/include/cuda_{i}.cuh", "")
    gen_site_packages(w, rng, "envs/cuda", n - 1 - meta - headers)


def gen_build(w, rng, n):
    gen_tree(w, rng, "build/lib.linux-x86_64-cpython-311", n, [".py", ".so", ".cu", ".o"])


def gen_pycache(w, rng, n):
    for i in range(n):
        w.write(f"src/benchpkg/__pycache__/m{i}.cpython-311.pyc")


def gen_egg_info(w, rng, n):
    names = ["requires.txt", "PKG-INFO", "SOURCES.txt", "top_level.txt"]
    for i in range(n):
        f = names[i] if i < len(names) else f"extra{i}.txt"
        w.write(f"src/benchpkg.egg-info/{f}", "torch==1.0\n" if f == "requires.txt" else "")


def gen_checkpoints(w, rng, n):
    for i in range(n):
        w.write(f"docs/.ipynb_checkpoints/tour{i}-checkpoint.ipynb", "{}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-decoys", action="store_true")
    a = ap.parse_args()

    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    w = Writer(a.out)
    gen_root(w)
    root_files = w.count
    decoys = {k: int(a.files * v) for k, v in DECOY_SHARE.items()}
    real = {k: int(a.files * v) for k, v in REAL_SHARE.items()}
    real["data"] = a.files - root_files - sum(decoys.values()) - sum(real.values())
    gens = {"src": gen_src, "tests": lambda w, r, n: gen_tree(w, r, "tests", n, [".py"]),
            "docs": lambda w, r, n: gen_tree(w, r, "docs", n, [".md", ".rst", ".png"]),
            "examples": gen_examples, "data": gen_data,
            "git": gen_git, "node_modules": gen_node_modules, "venv": gen_venv, "named_venv": gen_named_venv,
            "conda_env": gen_conda_env, "build": gen_build, "pycache": gen_pycache, "egg_info": gen_egg_info,
            "checkpoints": gen_checkpoints}
    for i, (part, n) in enumerate(list(real.items()) + list(decoys.items())):
        if part in decoys and a.no_decoys:
            continue
        before = w.count
        gens[part](w, random.Random(a.seed * 1000 + i), n)
        assert w.count - before == n, (part, n, w.count - before)
    print(f"{a.out}: {w.count} files{' (no decoys)' if a.no_decoys else ''}", file=sys.stderr)


if __name__ == "__main__":
    main()
