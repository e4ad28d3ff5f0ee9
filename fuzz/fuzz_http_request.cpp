// libFuzzer target: the HTTP request head parser of the ingest server
// (transport/HttpRequestHead.hpp) and Content-Length. The server parses the bytes
// received so far after every read, so each prefix of the input is parsed too: a
// prefix never says "complete" at a different place than the whole, and header names
// come out lower-cased.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/HttpRequestHead.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::transport;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  InboundRequest whole;
  const HeadParse full = parse_request_head(text, whole);
  if (full.status == HeadStatus::complete && full.head_bytes > text.size()) std::abort();
  for (const auto& [name, value] : whole.headers) {
    for (unsigned char c : name) {
      if (std::isupper(c)) std::abort();
    }
    (void)value;
  }
  (void)parse_content_length(whole.header("content-length"));
  // Prefixes at a few split points chosen by the input's first byte.
  const std::size_t step = size == 0 ? 1 : 1 + data[0] % 61;
  for (std::size_t n = 0; n < size; n += step) {
    InboundRequest partial;
    const HeadParse p = parse_request_head(text.substr(0, n), partial);
    if (p.status == HeadStatus::complete && (full.status != HeadStatus::complete || p.head_bytes != full.head_bytes)) {
      std::abort();
    }
  }
  return 0;
}
