#pragma once
// RFC 3339 UTC text <-> Unix seconds, for labels and anomaly events. No time zone
// database and no clock: pure calendar arithmetic (proleptic Gregorian).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowlier::lab {

// "2026-03-02T00:00:00Z" for 1772409600.
std::string format_rfc3339(std::int64_t unix_seconds);

// Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM); 't'/' ' accepted for 'T'.
// The fraction is truncated toward the earlier second. nullopt on anything else.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

}  // namespace flowlier::lab
