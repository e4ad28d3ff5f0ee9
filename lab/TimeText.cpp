#include "lab/TimeText.hpp"

#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::lab {

namespace {
constexpr std::int64_t kNanos = 1'000'000'000;
}

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  return pipeline::formats::days_from_civil(year, month, day);
}

std::string format_rfc3339(std::int64_t unix_seconds) {
  return pipeline::formats::format_rfc3339(unix_seconds * kNanos);
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  // Labels and NAB-style exports may use a space for the 'T'.
  std::string normalized(text);
  if (normalized.size() > 10 && normalized[10] == ' ') normalized[10] = 'T';
  const auto ns = pipeline::formats::parse_rfc3339(normalized);
  if (!ns) return std::nullopt;
  // Fractions are truncated toward the earlier second.
  return *ns >= 0 ? *ns / kNanos : -((-*ns + kNanos - 1) / kNanos);
}

}  // namespace flowlier::lab
