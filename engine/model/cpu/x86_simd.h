// Internal to the kernel files: the x86 intrinsics (include inside a __x86_64__ block).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// g++ 12's AVX-512 intrinsics pass _mm512_undefined_*() as the merge source, which trips
// -Wuninitialized at every inlined use (a compiler bug, fixed in g++ 13). The pragmas apply
// to the rest of the including file, which is what the kernels need.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
