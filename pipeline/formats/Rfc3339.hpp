#pragma once
// RFC 3339 timestamps <-> Unix nanoseconds (UTC, leap seconds not counted, as Unix time).
//
// parse_rfc3339 is strict: "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm)". 'T' and 'Z'
// may be lower case (RFC 3339 §5.6 note); a space instead of 'T', a missing zone,
// more than 9 fractional digits, an impossible date (2023-02-29) or a time outside
// the int64 nanosecond range (years 1677-2262) all fail. A leap second (:60) is
// accepted and reads as the first instant of the next minute. No allocation.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowlier::pipeline::formats {

std::optional<std::int64_t> parse_rfc3339(std::string_view text);

// "2026-01-02T03:04:05Z": UTC, seconds precision (nanoseconds are floored).
std::string format_rfc3339(std::int64_t unix_ns);
// "2026-01-02T03:04:05.123Z": UTC, milliseconds precision (floored).
std::string format_rfc3339_millis(std::int64_t unix_ns);

// Appending forms of the two formatters, for output paths that build one buffer.
void append_rfc3339(std::string& out, std::int64_t unix_ns);
void append_rfc3339_millis(std::string& out, std::int64_t unix_ns);

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

}  // namespace flowlier::pipeline::formats
