/* bindgen: class=io.idemnet.nativelib.NativeAbi prefix=idemnet_ */
/*
 * idemnet native ABI, the part both libraries share (libidemnet_cpu: idemnet.h, libidemnet_cuda:
 * idemnet_cuda.h): the export macro, the ABI version, status codes, enums and the convolution
 * geometry.
 *
 * Rules of this ABI (one shape for both libraries)
 *  - Plain C: no C++ types, no exceptions cross it (every entry point runs behind a guard that
 *    turns a C++ exception into a status). Every function returns an int status (IDEMNET_OK or an
 *    error code); on error the library's <prefix>last_error() gives a message that stays valid
 *    until the next call into that library on the same thread. A call that succeeds leaves an
 *    empty message.
 *  - Every operation takes the library's context first (idemnet_context: the CPU threads;
 *    idemnet_cuda_context: device, stream, allocator, cuBLAS). A NULL context is
 *    IDEMNET_ERR_INVALID_ARGUMENT. Only the library queries (<prefix>last_error,
 *    <prefix>abi_version, device queries) and <prefix>context_create take none.
 *  - The same operation has the same parameters in both libraries, after the context
 *    (idemnet_fill(ctx, x, n, value) and idemnet_cuda_fill(ctx, x, n, value)); a convolution's
 *    sizes travel in one idemnet_conv_geometry, by pointer.
 *  - All tensors are contiguous, row-major float32 buffers owned by the caller. Sizes are int64.
 *  - Java validates shapes before calling; the kernels still check what they cheaply can
 *    (null pointers, negative sizes) so a bad call is an error code, never a crash.
 *  - NaN policy: NaN and Inf propagate as IEEE arithmetic says (no fast-math); ReLU and LeakyReLU
 *    return NaN for a NaN input, as PyTorch does.
 *
 * Header style. tools/bindgen generates the Java bindings from these headers at build time and
 * fails the build, naming file:line, on anything outside these rules
 * (docs/decisions/generated-bindings.md):
 *  - The first line names the Java class: a bindgen comment (class, prefix; for a library's
 *    header also library, loader, pointers).
 *  - A function is `IDEMNET_API int <prefix>name(<type> <name>, ...);` (it may span lines;
 *    `(void)` for none). It returns an int status; only <prefix>last_error (const char*) and
 *    <prefix>abi_version (int) differ.
 *  - Types: int, int64_t, uint64_t, float, double, pointers to those, void*, char* and the
 *    typedefs of these headers; a struct only as `const <struct>*`.
 *  - `typedef struct X X;` declares an opaque handle; a struct definition holds scalar fields,
 *    one per declaration.
 *  - Constants: `#define <PREFIX><NAME> <integer>` or enumerators with explicit values.
 *  - Only `#include <stdint.h>` and headers of this folder; other #defines are include guards or
 *    IDEMNET_API.
 *  - A comment ending on the line just above a declaration, or trailing a #define, enumerator or
 *    field on its line, becomes its Javadoc.
 */
#ifndef IDEMNET_COMMON_H
#define IDEMNET_COMMON_H

#include <stdint.h>

#if defined(_WIN32)
#define IDEMNET_API __declspec(dllexport)
#else
#define IDEMNET_API __attribute__((visibility("default")))
#endif

/* Bumped whenever a signature of either library changes; Java refuses a library with another version. */
#define IDEMNET_ABI_VERSION 5

/* Status codes (plain ints so that C and C++ callers see the same type). */
#define IDEMNET_OK 0                   /* success */
#define IDEMNET_ERR_INVALID_ARGUMENT 1 /* a bad argument; nothing was done */
#define IDEMNET_ERR_OUT_OF_MEMORY 2    /* host or device memory ran out */
#define IDEMNET_ERR_BACKEND 3          /* BLAS or CUDA failure */
#define IDEMNET_ERR_NO_DEVICE 4        /* no usable GPU or driver */
#define IDEMNET_ERR_INTERNAL 5         /* a bug: an unexpected C++ exception */

#define IDEMNET_ANDERSON_MAX_MEMORY 16 /* the most iterates Anderson acceleration mixes (anderson_record, anderson_mix) */

enum idemnet_binary_op {
  IDEMNET_ADD = 0, /* binary op: a + b */
  IDEMNET_SUB = 1, /* binary op: a - b */
  IDEMNET_MUL = 2  /* binary op: a * b */
};

enum idemnet_activation {
  IDEMNET_IDENTITY = 0,   /* activation: x */
  IDEMNET_RELU = 1,       /* activation: max(x, 0) */
  IDEMNET_LEAKY_RELU = 2, /* activation: x, or param * x below 0 (param = negative slope) */
  IDEMNET_TANH = 3,       /* activation: tanh(x) */
  IDEMNET_SIGMOID = 4     /* activation: 1 / (1 + exp(-x)) */
};

/*
 * Geometry of a 2-D convolution (NCHW, dilation 1, groups 1; PyTorch's Conv2d): an image
 * [n, c, h, w], weights [o, c, kh, kw] and an output [n, o, ho, wo] with
 * ho = (h + 2 ph - kh) / sh + 1 and wo = (w + 2 pw - kw) / sw + 1 (the kernels check this). For
 * the transposed convolution the image and the output exchange roles.
 */
typedef struct idemnet_conv_geometry {
  int64_t n;  /* samples */
  int64_t c;  /* image channels */
  int64_t h;  /* image height */
  int64_t w;  /* image width */
  int64_t o;  /* output channels */
  int64_t kh; /* kernel height */
  int64_t kw; /* kernel width */
  int64_t sh; /* stride along the height */
  int64_t sw; /* stride along the width */
  int64_t ph; /* zero padding above and below */
  int64_t pw; /* zero padding left and right */
  int64_t ho; /* output height */
  int64_t wo; /* output width */
} idemnet_conv_geometry;

#endif /* IDEMNET_COMMON_H */
