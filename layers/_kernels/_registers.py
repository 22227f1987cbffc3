"""Register blocks for the compute-bound Numba kernels (the direct convolution).

A kernel that keeps a block of sums in registers for a whole loop needs two
things LLVM does not do by itself for Numba code:

- The block must be a stack array (``register_block``). A heap array might
  alias the kernel's inputs, so LLVM loads and stores every sum on every
  iteration; a stack array that does not escape it promotes to registers.
- The block should fill the vector registers the CPU has. LLVM vectorises
  with 256-bit registers even where the CPU has 512-bit ones (AVX-512), to
  avoid lowering the clock, unless the function asks for wider vectors
  (``prefer_wide_vectors``). For the convolution's multiply-adds, whose
  block is 16 registers of sums, the 512-bit version ran at 84 GMAC/s on one
  core against 42 for the 256-bit one.

``VECTOR_BYTES`` is the width of the vectors the blocks are sized for: 64
where the code is compiled for a CPU with AVX-512 (Numba compiles for the
host CPU unless ``NUMBA_CPU_NAME`` says otherwise), else 32. A block of
``BLOCK_VECTORS`` registers holds ``BLOCK_BYTES`` bytes.
"""
import numba
from llvmlite import binding as llvm
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _compiles_for_avx512():
    """Whether Numba's target CPU (the host's, or NUMBA_CPU_NAME/NUMBA_CPU_FEATURES) has AVX-512F."""
    if numba.config.CPU_NAME is None:
        features = llvm.get_host_cpu_features().flatten()
    else:
        features = numba.config.CPU_FEATURES or ""
    return "+avx512f" in features.split(",")


VECTOR_BYTES = 64 if _compiles_for_avx512() else 32
BLOCK_VECTORS = 16
BLOCK_BYTES = BLOCK_VECTORS * VECTOR_BYTES


def _block_count(dtype):
    """Elements of the Numba float type ``dtype`` in BLOCK_BYTES."""
    return BLOCK_BYTES // (dtype.bitwidth // 8)


@intrinsic
def block_values(typingctx, like):
    """How many elements of the array ``like``'s dtype a block holds, as a compile-time
    constant (LLVM then unrolls loops bounded by it; ``like.itemsize`` is read at run time)."""
    count = _block_count(like.dtype)

    def codegen(context, builder, signature, args):
        return context.get_constant(types.intp, count)

    return types.intp(like), codegen


@intrinsic
def register_block(typingctx, like):
    """A pointer to BLOCK_BYTES of scratch on the calling function's stack, typed as the
    elements of the array ``like`` (wrap it with ``numba.carray``)."""
    dtype, count = like.dtype, _block_count(like.dtype)

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(dtype), size=count)

    return types.CPointer(dtype)(like), codegen


@intrinsic
def prefer_wide_vectors(typingctx):
    """Let LLVM vectorise the calling function with VECTOR_BYTES-wide registers."""

    def codegen(context, builder, signature, args):
        # llvmlite's attribute set only takes the attributes it knows; this one is a string
        # attribute that LLVM reads as is.
        set.add(builder.function.attributes, f'"prefer-vector-width"="{8 * VECTOR_BYTES}"')
        return context.get_dummy_value()

    return types.none(), codegen
