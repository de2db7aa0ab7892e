# OpenVINO finds its device plugins and frontends beside libopenvino.so (openvino/libs/) and loads them with
# dlopen, so PyInstaller cannot see them: the whole folder is collected (versioned names such as
# libopenvino_ir_frontend.so.2641 included). The spec drops the frontends the app never uses.
from pathlib import Path

from PyInstaller.utils.hooks import collect_submodules, get_package_paths

_, _package_dir = get_package_paths("openvino")
binaries = [(str(lib), "openvino/libs") for lib in sorted((Path(_package_dir) / "libs").iterdir()) if ".so" in lib.name]
hiddenimports = collect_submodules(
    "openvino",
    filter=lambda name: (
        not name.startswith(
            (
                "openvino.tools",
                "openvino.torch",
                "openvino.frontend.pytorch",
                "openvino.frontend.tensorflow",
                "openvino.frontend.jax",
            )
        )
    ),
)
