"""Build the course as a static JupyterLite site (`make lite`), with nothing fetched at run time.

What goes in, all from the package registries (npm and PyPI), pinned in ``lite/wheels.txt``:
- the Pyodide runtime from the npm ``pyodide`` package (it ships no package wheels);
- pure-Python wheels and the WebAssembly wheels PyPI publishes (pydantic-core, jiter) for
  Pyodide's Python, downloaded with pip for that platform;
- a wheel of this project (course_utils, course_simulator, course_checks), which each lesson's
  first cell installs in a browser tab; its metadata leaves out tiktoken, numpy and matplotlib
  there (``sys_platform != 'emscripten'`` in pyproject.toml);
- the lessons and the exercises.

Two things make it work offline. JupyterLite takes the runtime from a ``static/pyodide/`` folder
beside its config when there is one, so the npm package is unpacked there (no release tarball
to repack and unpack again). And Pyodide loads the packages its
lock file names (micropip, packaging, openai, ipython, ...) from beside the runtime, checking
each file's sha256 against the lock: the CDN's copies are not PyPI's bytes, so the wheels we ship
are copied there and the lock is rewritten to name them (file name, version, sha256). Packages
the lock does not name go to piplite's index, from which ``%pip install`` takes them. The lock's
other packages (numpy, matplotlib and what they need) point at Pyodide's CDN, so a deployed
site loads them on demand; without a network only the plots are missing.

Usage: python lite/build.py [--out lite/_site]   (the output is git-ignored)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYODIDE_NPM = "pyodide@314.0.6"
PYODIDE_PYTHON = "3.14"
PYODIDE_PLATFORM = "pyemscripten_2026_0_wasm32"
PYODIDE_CDN = "https://cdn.jsdelivr.net/pyodide/v{version}/full/"

# What the site's copy of every notebook runs first, at the top of its first code cell: in a
# browser tab, install the course and ready the kernel (it prints the in-browser backend).
BROWSER_SETUP = """\
import sys

if sys.platform == "emscripten":  # a browser tab (JupyterLite): install the course here first
    %pip install course-utils
    from course_utils import prepare_browser

    await prepare_browser()  # prints the backend; numpy and matplotlib from Pyodide's CDN

"""


def run(*argv: str, cwd: Path | None = None) -> None:
    subprocess.run(argv, cwd=cwd, check=True)


def unpack_pyodide(work: Path) -> Path:
    """The npm package's files in ``work/static/pyodide``, where JupyterLite looks for a
    runtime of the site's own (its ``package/`` prefix dropped)."""
    npm = work / "npm"
    shutil.rmtree(npm, ignore_errors=True)
    npm.mkdir(parents=True)
    run("npm", "pack", "--silent", PYODIDE_NPM, cwd=npm)
    (packed,) = npm.glob("pyodide-*.tgz")
    out = work / "static" / "pyodide"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tarfile.open(packed) as src:
        for member in src.getmembers():
            data = src.extractfile(member) if member.isfile() else None
            if data is not None:
                target = out / member.name.split("/", 1)[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data.read())
    return out


def download_wheels(work: Path) -> list[Path]:
    """Every wheel the browser kernel needs, for Pyodide's Python and platform."""
    dest = work / "wheels"
    shutil.rmtree(dest, ignore_errors=True)
    run(
        sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
        "--python-version", PYODIDE_PYTHON, "--platform", "any", "--platform", PYODIDE_PLATFORM,
        "--abi", "cp314", "--abi", "none", "-r", str(HERE / "wheels.txt"), "-d", str(dest),
    )  # fmt: skip
    return sorted(dest.glob("*.whl"))


def course_wheel(work: Path) -> Path:
    """A wheel of this project (course_utils, course_simulator, course_checks), no deps."""
    dest = work / "course"
    shutil.rmtree(dest, ignore_errors=True)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dest), str(ROOT))
    (wheel,) = dest.glob("course_utils-*.whl")
    return wheel


def lock_our_wheels(pyodide_dir: Path, wheels: list[Path]) -> int:
    """Point Pyodide's lock at our copies of the packages it names, and every other package
    at Pyodide's CDN (loaded only when asked for: numpy, matplotlib); returns how many are ours."""
    lock_path = pyodide_dir / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    cdn = PYODIDE_CDN.format(version=PYODIDE_NPM.rpartition("@")[2])
    for entry in lock["packages"].values():
        entry["file_name"] = cdn + entry["file_name"]
    names = {norm(key): key for key in lock["packages"]}
    locked = 0
    for wheel in wheels:
        dist, version = wheel.name.split("-")[:2]
        key = names.get(norm(dist))
        if key is None:
            continue
        shutil.copy(wheel, pyodide_dir / wheel.name)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lock["packages"][key].update(file_name=wheel.name, version=version, sha256=digest)
        locked += 1
    lock_path.write_text(json.dumps(lock))
    return locked


def browser_ready(notebook: Path) -> None:
    """Put ``BROWSER_SETUP`` at the top of the notebook's first code cell (the site's copy)."""
    nb = json.loads(notebook.read_text("utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = first["source"] if isinstance(first["source"], str) else "".join(first["source"])
    first["source"] = BROWSER_SETUP + source
    notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "_site")
    parser.add_argument("--work", type=Path, default=HERE / "_build")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    unpack_pyodide(work)
    wheels = [*download_wheels(work), course_wheel(work)]
    contents = work / "contents"
    shutil.rmtree(contents, ignore_errors=True)
    for folder in ("notebooks", "exercises"):
        shutil.copytree(ROOT / folder, contents / folder)
        for notebook in (contents / folder).glob("*.ipynb"):
            browser_ready(notebook)
    config = {
        "LiteBuildConfig": {"contents": [str(contents)], "output_dir": str(args.out.resolve())},
        "PipliteAddon": {"piplite_urls": [str(w) for w in wheels]},
    }
    (work / "jupyter_lite_config.json").write_text(json.dumps(config, indent=1))
    shutil.rmtree(args.out, ignore_errors=True)
    for state in work.glob(".jupyterlite.doit.db*"):  # a fresh site: no step counts as done
        state.unlink()
    run(sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(work), cwd=work)
    locked = lock_our_wheels(args.out / "static" / "pyodide", wheels)
    print(f"JupyterLite site in {args.out}: {len(wheels)} wheels, {locked} in Pyodide's lock")


if __name__ == "__main__":
    main()
