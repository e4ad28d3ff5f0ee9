#include <catch2/catch.hpp>

#include "lab/TimeText.hpp"

using namespace flowlier::lab;

TEST_CASE("RFC 3339 round trip at known instants", "[lab][time]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(1772409600) == "2026-03-02T00:00:00Z");
  CHECK(format_rfc3339(951782400) == "2000-02-29T00:00:00Z");
  CHECK(parse_rfc3339("2026-03-02T00:00:00Z") == 1772409600);
  CHECK(parse_rfc3339("2026-03-02T01:02:03.999Z") == 1772409600 + 3723);
  CHECK(parse_rfc3339("2026-03-02T02:00:00+02:00") == 1772409600);
  CHECK(parse_rfc3339("2026-03-01T22:00:00-02:00") == 1772409600);
  for (std::int64_t t : {0LL, 86399LL, 951782400LL, 1772409600LL, 4102444799LL}) {
    CHECK(parse_rfc3339(format_rfc3339(t)) == t);
  }
}

TEST_CASE("RFC 3339 parser rejects malformed text", "[lab][time]") {
  for (const char* bad : {"", "2026-03-02", "2026-03-02T00:00:00", "2026-13-02T00:00:00Z", "2026-02-29T00:00:00Z",
                          "2026-03-02T24:00:00Z", "2026-03-02T00:00:00Zjunk", "2026-03-02T00:00:00.Z",
                          "yesterday", "2026-03-02T00:00:00+0200"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}
