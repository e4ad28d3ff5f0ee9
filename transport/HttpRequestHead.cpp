#include "transport/HttpRequestHead.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace flowlier::transport {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::string_view InboundRequest::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

HeadParse parse_request_head(std::string_view received, InboundRequest& request) {
  request = {};
  HeadParse result;
  const auto blank = received.find("\r\n\r\n");
  const bool complete = blank != std::string_view::npos;
  if ((complete ? blank + 4 : received.size()) > kMaxRequestHeadBytes) {
    result.status = HeadStatus::bad;
    result.error = "headers too large";
    return result;
  }
  // Only whole lines: the last partial line of an incomplete head waits for more bytes.
  const std::string_view head = complete ? received.substr(0, blank + 2) : received;
  const auto line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return result;  // the request line is not complete yet
  const std::string_view line = head.substr(0, line_end);
  const auto space1 = line.find(' ');
  const auto space2 = space1 == std::string_view::npos ? space1 : line.find(' ', space1 + 1);
  if (space1 == 0 || space1 == std::string_view::npos || space2 == std::string_view::npos || space2 == space1 + 1 ||
      !line.substr(space2 + 1).starts_with("HTTP/")) {
    result.status = HeadStatus::bad;
    result.error = "bad request line";
    return result;
  }
  request.method = std::string(line.substr(0, space1));
  std::string_view path = line.substr(space1 + 1, space2 - space1 - 1);
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  request.path = std::string(path);
  std::string_view rest = head.substr(line_end + 2);
  while (true) {
    const auto end = rest.find("\r\n");
    if (end == std::string_view::npos) break;  // a partial line (incomplete head)
    const std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end + 2);
    const auto colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      result.status = HeadStatus::bad;
      result.error = "bad header line";
      return result;
    }
    std::string name(trim(field.substr(0, colon)));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers[name] = std::string(trim(field.substr(colon + 1)));
  }
  if (complete) {
    result.status = HeadStatus::complete;
    result.head_bytes = blank + 4;
  }
  return result;
}

std::optional<std::size_t> parse_content_length(std::string_view text) {
  std::size_t length = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return length;
}

}  // namespace flowlier::transport
