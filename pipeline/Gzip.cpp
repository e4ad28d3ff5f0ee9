#include "pipeline/Gzip.hpp"

#include <zlib.h>

#include <fmt/format.h>

namespace flowlier::pipeline {

std::string gunzip(std::string_view compressed, std::string& out, std::size_t max_output) {
  out.clear();
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return "zlib could not be initialised";
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  char buffer[1 << 16];
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = sizeof buffer - zs.avail_out;
    if (out.size() + produced > max_output) {
      inflateEnd(&zs);
      return fmt::format("inflates to more than {} bytes", max_output);
    }
    out.append(buffer, produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (concatenated .gz files are valid).
      inflateReset(&zs);
      continue;
    }
    if (rc != Z_OK) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      rc = Z_BUF_ERROR;
      break;
    }
  }
  inflateEnd(&zs);
  if (rc == Z_STREAM_END) return {};
  if (rc == Z_BUF_ERROR) return "gzip data is truncated";
  return fmt::format("gzip data is corrupt ({})", zs.msg ? zs.msg : "inflate failed");
}

std::string gzip(std::string_view plain) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, plain.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace flowlier::pipeline
