"""Build one kernel for one NPU generation: compile the AIE C++ with Peano, generate the IRON design's
MLIR for every shape Whisper needs, run aiecc.py once for final.xclbin + the first insts.bin and with
--aie-generate-npu-insts --no-compile --no-link for every other shape, then record everything in build/<dev>/manifest.json.

    python3 common/build_kernel.py --kernel gemm --dev npu1 --model tiny --build build/npu1

Every command is printed before it runs; a failure prints one sentence naming the log and exits 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC_PY = ROOT.parent / "amanuensis_desktop" / "backends" / "npu" / "spec.py"
sys.path.insert(0, str(HERE))
import toolchain  # noqa: E402


def load_spec():
    s = importlib.util.spec_from_file_location("amn_npu_spec", SPEC_PY)
    mod = importlib.util.module_from_spec(s)
    sys.modules["amn_npu_spec"] = mod
    s.loader.exec_module(mod)
    return mod


# kernel folder → (spec kernel name, design file, C++ file, object name, how a key becomes design args)
def _gemm_args(shape):
    b, m, k, n = shape
    return ["-B", str(b), "-M", str(m), "-K", str(k), "-N", str(n)]


KERNELS = {
    "gemm": ("gemm", "gemm.py", "gemm.cc", "gemm.o", _gemm_args),
    "softmax": ("softmax", "softmax.py", "softmax.cc", "softmax.o",
                lambda s: ["-R", str(s[0]), "-L", str(s[1]), "--valid", str(s[2])]),
    "layernorm": ("layernorm", "layernorm.py", "layernorm.cc", "layernorm.o",
                  lambda s: ["-R", str(s[0]), "-D", str(s[1])]),
    "gelu": ("bias_gelu", "bias_gelu.py", "bias_gelu.cc", "bias_gelu.o",
             lambda s: ["-R", str(s[0]), "-D", str(s[1])]),
}


def run(cmd, cwd: Path, log: Path, stdout=None) -> None:
    print("+", "(cd", shlex.quote(str(cwd)), "&&", " ".join(shlex.quote(c) for c in cmd) + ")", flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as lf:
        res = subprocess.run(cmd, cwd=cwd, stdout=stdout or lf, stderr=lf)
    if res.returncode:
        print(f"Building failed at '{cmd[0]} {cmd[1] if len(cmd) > 1 else ''}'; the log is {log}.", file=sys.stderr)
        sys.exit(1)


def aie_include_dir() -> Path:
    """The mlir_aie install's include/ (AIE API headers): ``aie.utils.config.cxx_header_path()`` when the
    release has it, else <install>/include next to bin/aie-opt (what mlir-aie's Makefiles pass with -I)."""
    try:
        from aie.utils.config import cxx_header_path

        return Path(cxx_header_path())
    except Exception:
        pass
    import shutil

    cands = []
    opt = shutil.which("aie-opt")
    if opt:
        cands.append(Path(opt).resolve().parent.parent / "include")
    import aie

    pkg = Path(aie.__file__).resolve().parent  # <install>/python/aie
    cands += [pkg.parent.parent / "include", pkg.parent / "include"]
    for c in cands:
        if (c / "aie_api" / "aie.hpp").is_file():
            return c
    print("The AIE API headers (aie_api/aie.hpp) were not found in the mlir_aie install; "
          f"looked in {', '.join(map(str, cands))}.", file=sys.stderr)
    sys.exit(1)


def compile_flags(dev: str, defines: list[str]) -> list[str]:
    target = "aie2-none-unknown-elf" if dev == "npu1" else "aie2p-none-unknown-elf"
    inc = aie_include_dir()
    flags = ["-O2", "-std=c++20", f"--target={target}", "-ffp-contract=off", "-DNDEBUG",
             "-Wno-parentheses", "-Wno-attributes", "-Wno-macro-redefined", f"-I{inc}", f"-I{HERE}"]
    if dev == "npu2":
        flags.append("-DAMN_NPU2")
    return flags + [f"-D{d}" for d in defines]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", choices=sorted(KERNELS), required=True)
    ap.add_argument("--dev", choices=["npu1", "npu2"], default="npu1")
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--build", type=Path, required=True)
    a = ap.parse_args()
    if toolchain.main([]):
        return 1
    spec = load_spec()
    name, design, source, obj, to_args = KERNELS[a.kernel]
    plan = spec.encoder_plan(spec.DEVICES[a.dev], *spec.MODELS[a.model])
    keys = sorted(plan.keys.get(name, ()))
    out = (a.build / name).resolve()
    (out / "insts").mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    peano = toolchain.peano_dir()
    folder = ROOT / a.kernel

    defines = []
    if name == "gemm":
        t = spec.DEVICES[a.dev].gemm
        defines = [f"DIM_M={t.m}", f"DIM_K={t.k}", f"DIM_N={t.n}"]
    elif name in ("softmax", "layernorm"):
        lengths = {spec.parse_key(k)[1][1] for k in keys}
        if len(lengths) != 1:
            print(f"{name}: one xclbin serves one row length, but the plan needs {sorted(lengths)}.", file=sys.stderr)
            return 1
        defines = [f"ROW_LEN={lengths.pop()}"]
    run([str(peano / "bin" / "clang++"), *compile_flags(a.dev, defines), "-c", str(folder / source), "-o", obj],
        out, logs / "compile.log")

    insts = {}
    for i, key in enumerate(keys):
        mlir = out / f"aie_{key}.mlir"
        with open(mlir, "wb") as fh:
            run([sys.executable, str(folder / design), "--dev", a.dev, *to_args(spec.parse_key(key)[1])],
                out, logs / f"{key}.log", stdout=fh)
        common = ["--no-compile-host", "--no-xchesscc", "--no-xbridge", f"--peano={peano}",
                  f"--npu-insts-name=insts/{key}.bin", mlir.name]
        if i == 0:  # the core image is shape-independent (runtime parameters): one xclbin for all keys
            cmd = [toolchain.aiecc(), "--aie-generate-xclbin", "--aie-generate-npu-insts", "--xclbin-name=final.xclbin",
                   "--xclbin-kernel-name=MLIR_AIE", *common]
        else:  # instructions only: no core compile, no link (flags both aiecc drivers document)
            cmd = [toolchain.aiecc(), "--aie-generate-npu-insts", "--no-compile", "--no-link", *common]
        run(cmd, out, logs / f"{key}.log")
        insts[key] = f"{name}/insts/{key}.bin"

    manifest_path = a.build / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest.update({"format": 1, "device": a.dev, "model": a.model, "toolchain": toolchain.PINS})
    entry = {"xclbin": f"{name}/final.xclbin", "insts": insts}
    if name == "gemm":
        t = spec.DEVICES[a.dev].gemm
        entry["tile"] = {"m": t.m, "k": t.k, "n": t.n, "rows": t.rows, "cols": t.cols}
    manifest.setdefault("kernels", {})[name] = entry
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"{name}: {len(insts)} instruction stream(s) and final.xclbin in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
