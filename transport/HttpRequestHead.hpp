#pragma once
// The request line and header fields of an HTTP/1.1 request, parsed from the bytes
// received so far. Pure (no sockets), so the ingest server can check a header (the
// access key) as soon as its line is complete, and a fuzz target can reach it.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace flowlier::transport {

struct InboundRequest {
  std::string method;
  std::string path;                            // query string removed
  std::map<std::string, std::string> headers;  // lower-cased names, trimmed values
  std::string body;

  // The header's value, or empty.
  std::string_view header(const std::string& lower_name) const;
};

inline constexpr std::size_t kMaxRequestHeadBytes = 16 << 10;

enum class HeadStatus {
  incomplete,  // no blank line yet: `request` holds the request line and the complete header lines so far
  complete,    // `head_bytes` is the size of the head including the blank line
  bad,         // `error` says why (answer 400)
};

struct HeadParse {
  HeadStatus status = HeadStatus::incomplete;
  std::size_t head_bytes = 0;
  std::string error;
};

// Parses `received` (everything read from the connection so far) into `request`
// (cleared first). A head over kMaxRequestHeadBytes, a request line without a method,
// a target and a version, or a header line without a colon is `bad`.
HeadParse parse_request_head(std::string_view received, InboundRequest& request);

// Content-Length as a number: nullopt when it is absent, not all digits, or too big.
std::optional<std::size_t> parse_content_length(std::string_view text);

}  // namespace flowlier::transport
