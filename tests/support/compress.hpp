#pragma once

// Request-body encodings for the tests of the front stage's decoding:
// the unit tests of the parser and the bomb tests over real sockets.

#include <brotli/encode.h>
#include <zlib.h>

#include <cstdint>
#include <string>

namespace argus::test {

/// `text` compressed with zlib: 31 window bits for gzip, 15 for zlib,
/// -15 for raw deflate.
inline std::string zlib_of(const std::string& text, int window_bits,
                           int level = Z_DEFAULT_COMPRESSION) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string brotli_of(const std::string& text,
                             int quality = BROTLI_DEFAULT_QUALITY) {
  std::string out(BrotliEncoderMaxCompressedSize(text.size()) + 16, '\0');
  size_t size = out.size();
  BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC,
                        text.size(),
                        reinterpret_cast<const uint8_t*>(text.data()), &size,
                        reinterpret_cast<uint8_t*>(out.data()));
  out.resize(size);
  return out;
}

} // namespace argus::test
