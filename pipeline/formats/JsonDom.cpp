#include "pipeline/formats/JsonDom.hpp"

#include <charconv>

namespace flowlier::pipeline::formats::json {

bool parse_unsigned(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

NumberStatus read_unsigned(object obj, std::string_view key, std::uint64_t& out) {
  auto value = member(obj, key);
  if (!value) return NumberStatus::absent;
  switch (value->type()) {
    case simdjson::dom::element_type::UINT64:
      out = value->get_uint64().value_unsafe();
      return NumberStatus::ok;
    case simdjson::dom::element_type::INT64: {
      const std::int64_t v = value->get_int64().value_unsafe();
      if (v < 0) return NumberStatus::bad;
      out = static_cast<std::uint64_t>(v);
      return NumberStatus::ok;
    }
    case simdjson::dom::element_type::STRING:
      return parse_unsigned(value->get_string().value_unsafe(), out) ? NumberStatus::ok : NumberStatus::bad;
    default:
      return NumberStatus::bad;
  }
}

std::string_view excerpt(std::string_view text, std::size_t max_bytes) {
  return text.size() <= max_bytes ? text : text.substr(0, max_bytes);
}

std::string minified_excerpt(element value, std::size_t max_bytes) {
  std::string text = simdjson::minify(value);
  if (text.size() > max_bytes) text.resize(max_bytes);
  return text;
}

}  // namespace flowlier::pipeline::formats::json
