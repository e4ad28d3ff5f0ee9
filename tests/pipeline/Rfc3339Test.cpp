#include <catch2/catch.hpp>

#include "pipeline/formats/Rfc3339.hpp"

using namespace flowlier::pipeline::formats;

TEST_CASE("RFC 3339 timestamps parse to Unix nanoseconds", "[rfc3339]") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  // A GCP start_time with nanoseconds, and its 3-digit sibling end_time.
  CHECK(parse_rfc3339("2018-04-03T13:47:37.301723960Z") == 1522763257301723960);
  CHECK(parse_rfc3339("2018-04-03T13:47:38.401Z") == 1522763258401000000);
  // Azure's record time: 7 fractional digits.
  CHECK(parse_rfc3339("2018-04-03T13:47:38.4010000Z") == 1522763258401000000);
  CHECK(parse_rfc3339("2026-02-26T12:01:00.000000Z") == 1772107260000000000);
  // Offsets: local time minus the offset.
  CHECK(parse_rfc3339("2026-01-02T03:04:05+01:30") == 1767317645000000000);
  CHECK(parse_rfc3339("2026-01-02T01:34:05Z") == 1767317645000000000);
  CHECK(parse_rfc3339("2026-01-01T20:04:05-05:30") == 1767317645000000000);
  CHECK(parse_rfc3339("2026-01-02T01:34:05-00:00") == 1767317645000000000);
  CHECK(parse_rfc3339("2026-01-02t01:34:05z") == 1767317645000000000);
  CHECK(parse_rfc3339("2024-02-29T23:59:59Z") == 1709251199000000000);
  // A leap second reads as the first instant of the next minute.
  CHECK(parse_rfc3339("2016-12-31T23:59:60Z") == 1483228800000000000);
  CHECK(parse_rfc3339("1969-12-31T23:59:59.5Z") == -500000000);
  // The last representable instant, and one nanosecond past it.
  CHECK(parse_rfc3339("2262-04-11T23:47:16.854775807Z") == INT64_MAX);
  CHECK_FALSE(parse_rfc3339("2262-04-11T23:47:16.854775808Z"));
}

TEST_CASE("malformed RFC 3339 timestamps are refused", "[rfc3339]") {
  for (const char* bad : {
           "",
           "2026-13-01T00:00:00Z",           // month 13
           "2026-00-01T00:00:00Z",           // month 0
           "2026-02-29T00:00:00Z",           // not a leap year
           "2026-04-31T00:00:00Z",           // April has 30 days
           "2026-01-00T00:00:00Z",           // day 0
           "2026-01-02T24:00:00Z",           // hour 24
           "2026-01-02T03:60:00Z",           // minute 60
           "2026-01-02T03:04:61Z",           // second 61
           "2026-01-02T03:04:05",            // no time zone
           "2026-01-02T03:04:05.123",        // no time zone after a fraction
           "2026-01-02 03:04:05Z",           // space instead of T
           "2026-01-02T03:04:05.Z",          // empty fraction
           "2026-01-02T03:04:05.1234567891Z",  // 10 fractional digits
           "2026-01-02T03:04:05+0100",       // offset without colon
           "2026-01-02T03:04:05+24:00",      // offset hour 24
           "2026-01-02T03:04:05+01:60",      // offset minute 60
           "2026-01-02T03:04:05+01",         // short offset
           "2026-01-02T03:04:05Z ",          // trailing space
           "2026-1-02T03:04:05Z",            // one-digit month
           "+2026-01-02T03:04:05Z",          // signed year
           "2026/01/02T03:04:05Z",           // wrong separator
           "2300-01-01T00:00:00Z",           // beyond int64 nanoseconds
           "1600-01-01T00:00:00Z",           // before int64 nanoseconds
       }) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}

TEST_CASE("Unix nanoseconds format as RFC 3339 UTC", "[rfc3339]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(1767323045678000000) == "2026-01-02T03:04:05Z");
  CHECK(format_rfc3339_millis(1767323045678000000) == "2026-01-02T03:04:05.678Z");
  CHECK(format_rfc3339_millis(1767323045000999999) == "2026-01-02T03:04:05.000Z");
  CHECK(format_rfc3339(1709251199000000000) == "2024-02-29T23:59:59Z");
  // Before 1970 the value floors to the earlier second.
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59Z");
  CHECK(format_rfc3339_millis(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(INT64_MAX) == "2262-04-11T23:47:16Z");
  CHECK(format_rfc3339(INT64_MIN) == "1677-09-21T00:12:43Z");

  std::string out = "t=";
  append_rfc3339_millis(out, 1522763258401000000);
  CHECK(out == "t=2018-04-03T13:47:38.401Z");
}

TEST_CASE("formatting then parsing returns the same instant", "[rfc3339]") {
  for (std::int64_t seconds : {std::int64_t{0}, std::int64_t{951782400}, std::int64_t{4102444799},
                               std::int64_t{-86400 * 365}, std::int64_t{1767323045}}) {
    const std::int64_t ns = seconds * 1'000'000'000 + 123'000'000;
    INFO(ns);
    CHECK(parse_rfc3339(format_rfc3339_millis(ns)) == ns);
    CHECK(parse_rfc3339(format_rfc3339(ns)) == seconds * 1'000'000'000);
  }
}
