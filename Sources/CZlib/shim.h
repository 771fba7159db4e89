#ifndef LLMLAB_CZLIB_SHIM_H
#define LLMLAB_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 / deflateInit2 are macros (they pass ZLIB_VERSION and sizeof(z_stream)),
// which Swift does not import: wrap them in functions.

// windowBits 15 + 32: accept both gzip and zlib framing (header auto-detected).
static inline int llmlab_zlib_inflate_init(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

// windowBits 15 + 16: write a gzip header and trailer.
static inline int llmlab_zlib_deflate_init(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
