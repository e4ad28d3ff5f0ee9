#pragma once
// Base64 (RFC 4648 standard alphabet, '=' padding) for Firehose record data.
#include <string>
#include <string_view>

namespace flowlier::pipeline::formats {

// Decodes `text` into `out` (cleared first). Padding may be present or omitted, but
// when present it must be correct; any byte outside the alphabet (whitespace
// included) is an error. Returns an empty string on success, else a message naming
// the offset of the problem. No exceptions.
std::string base64_decode(std::string_view text, std::string& out);

// Encodes with padding (for tests and tools that build Firehose requests).
std::string base64_encode(std::string_view bytes);

}  // namespace flowlier::pipeline::formats
