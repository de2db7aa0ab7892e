# Shared rules of the per-kernel Makefiles (kernels/<kernel>/Makefile sets KERNEL and includes this file,
# as mlir-aie's programming examples include their makefile-common): builds one kernel — Peano-compiled C++
# + IRON design → $(BUILD)/<kernel>/final.xclbin and one insts/<shape>.bin per Whisper shape (listed by
# amanuensis_desktop/backends/npu/spec.py) — via common/build_kernel.py, which checks the toolchain first
# and stops with one sentence when it is absent.
#
#   make -C kernels/gemm [DEV=npu1|npu2] [MODEL=tiny|base|...]     (make -C kernels builds all four)
ifndef KERNEL
$(error KERNEL is not set; include kernels/common/kernel.mk from a kernels/<kernel>/Makefile)
endif
KERNELS_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
PYTHON ?= python3
DEV ?= npu1
MODEL ?= tiny
BUILD ?= $(KERNELS_DIR)/build/$(DEV)

.PHONY: all
all:
	@$(PYTHON) $(KERNELS_DIR)/common/build_kernel.py --kernel $(KERNEL) --dev $(DEV) --model $(MODEL) --build $(BUILD)
