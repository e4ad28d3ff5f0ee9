#pragma once
// Internal helpers shared by the JSON decoders (GCP, Azure): small typed lookups over
// simdjson's DOM and a splitter for buffered inputs holding one or several JSON
// documents. Included only by .cpp files in pipeline/formats, so simdjson stays out
// of the public headers.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowlier::pipeline::formats::json {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// The member `key` of `obj`; nullopt when missing or JSON null.
inline std::optional<element> member(object obj, std::string_view key) {
  element value;
  if (obj[key].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

inline std::optional<object> member_object(object obj, std::string_view key) {
  object value;
  auto e = member(obj, key);
  if (!e || e->get_object().get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

inline std::optional<array> member_array(object obj, std::string_view key) {
  array value;
  auto e = member(obj, key);
  if (!e || e->get_array().get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

// The string member `key`, or empty when missing or not a string.
inline std::string_view member_string(object obj, std::string_view key) {
  std::string_view value;
  auto e = member(obj, key);
  if (!e || e->get_string().get(value) != simdjson::SUCCESS) return {};
  return value;
}

enum class NumberStatus { ok, absent, bad };

// Strict unsigned decimal: digits only, no sign, no spaces, fits in uint64.
bool parse_unsigned(std::string_view text, std::uint64_t& out);

// An unsigned integer carried as a JSON number or as a JSON string of digits (GCP
// sends int64 values as strings). Negative, fractional or non-numeric values are bad.
NumberStatus read_unsigned(object obj, std::string_view key, std::uint64_t& out);

// The input text for a Reject, cut to a bounded length.
std::string_view excerpt(std::string_view text, std::size_t max_bytes = 1024);
// The minified JSON of `value`, cut to a bounded length (for rejects inside a document).
std::string minified_excerpt(element value, std::size_t max_bytes = 1024);

// Parses every top-level JSON value in `text` (one document, JSON Lines, or several
// concatenated pretty-printed documents) and calls on_value(element, ordinal) for
// each, ordinal counting from 1. Stops at the first value that does not parse; returns
// a message describing that error or a truncated tail, or nullopt when all of `text`
// was consumed. `text` gains simdjson's padding in its capacity (its content is kept).
template <class OnValue>
std::optional<std::string> for_each_document(simdjson::dom::parser& parser, std::string& text, OnValue&& on_value) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;  // nothing to parse
  const std::size_t size = text.size();
  text.reserve(size + simdjson::SIMDJSON_PADDING);
  // The batch must hold the largest document; the whole buffer always does.
  const std::size_t batch = size < simdjson::dom::MINIMAL_BATCH_SIZE ? simdjson::dom::MINIMAL_BATCH_SIZE : size;
  simdjson::dom::document_stream stream;
  if (auto error = parser.parse_many(text.data(), size, batch).get(stream); error != simdjson::SUCCESS) {
    return std::string(simdjson::error_message(error));
  }
  std::uint64_t ordinal = 0;
  for (auto it = stream.begin(); it != stream.end(); ++it) {
    element value;
    if (auto error = (*it).get(value); error != simdjson::SUCCESS) {
      return "JSON value " + std::to_string(ordinal + 1) + " at byte " + std::to_string(it.current_index()) +
             " does not parse: " + simdjson::error_message(error);
    }
    on_value(value, ++ordinal);
  }
  if (stream.truncated_bytes() > 0) {
    return "truncated document: the last " + std::to_string(stream.truncated_bytes()) +
           " bytes are an incomplete JSON value";
  }
  return std::nullopt;
}

}  // namespace flowlier::pipeline::formats::json
