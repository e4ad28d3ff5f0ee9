#include <catch2/catch.hpp>

#include <limits>
#include <sstream>

#include "core/StateIo.hpp"

using namespace flowlier::detectors;

TEST_CASE("FNV-1a 64 matches the published test vectors", "[state]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
  CHECK(fnv1a64("bar", fnv1a64("foo")) == fnv1a64("foobar"));
}

TEST_CASE("writer and reader round-trip values, strings and vectors", "[state]") {
  StateWriter w;
  w.put<std::uint32_t>(7);
  w.put(-2.5);
  w.put(true);
  w.put_string("hello");
  w.put_vector(std::vector<double>{1.0, 2.0, 3.0});
  StateReader r(w.bytes());
  std::uint32_t u = 0;
  double d = 0;
  bool b = false;
  std::string s;
  std::vector<double> v;
  REQUIRE(r.get(u));
  REQUIRE(r.get(d));
  REQUIRE(r.get(b));
  REQUIRE(r.get_string(s, 16));
  REQUIRE(r.get_vector(v, 16));
  CHECK(u == 7);
  CHECK(d == -2.5);
  CHECK(b);
  CHECK(s == "hello");
  CHECK(v == std::vector<double>{1.0, 2.0, 3.0});
  CHECK(r.finish().empty());
}

TEST_CASE("reader errors are sticky and never read past the end", "[state]") {
  StateWriter w;
  w.put<std::uint16_t>(1);
  StateReader r(w.bytes());
  std::uint64_t big = 0;
  CHECK_FALSE(r.get(big));
  CHECK(r.error().find("truncated") != std::string::npos);
  std::uint8_t small = 0;
  CHECK_FALSE(r.get(small));  // sticky even though 2 bytes remain
  CHECK_FALSE(r.finish().empty());
}

TEST_CASE("reader refuses hostile counts and invalid booleans", "[state]") {
  StateWriter w;
  w.put<std::uint64_t>(std::numeric_limits<std::uint64_t>::max());  // vector count
  StateReader r(w.bytes());
  std::vector<double> v;
  CHECK_FALSE(r.get_vector(v, 1000));
  CHECK(r.error().find("limit") != std::string::npos);

  StateWriter w2;
  w2.put<std::uint64_t>(500);  // within the limit but the bytes are not there
  StateReader r2(w2.bytes());
  CHECK_FALSE(r2.get_vector(v, 1000));
  CHECK(r2.error().find("truncated") != std::string::npos);

  StateWriter w3;
  w3.put<std::uint8_t>(7);
  StateReader r3(w3.bytes());
  bool b = false;
  CHECK_FALSE(r3.get(b));
  CHECK(r3.error().find("boolean") != std::string::npos);

  StateWriter w4;
  w4.put<std::uint32_t>(1u << 30);
  StateReader r4(w4.bytes());
  std::string s;
  CHECK_FALSE(r4.get_string(s, 64));
}

TEST_CASE("records frame, validate and chain on one stream", "[state]") {
  std::ostringstream out;
  save_record(out, "alpha", 3, "payload-one");
  save_record(out, "beta", 1, "");
  std::istringstream in(out.str());
  std::string payload;
  REQUIRE(load_record(in, "alpha", 3, payload).empty());
  CHECK(payload == "payload-one");
  REQUIRE(load_record(in, "beta", 1, payload).empty());
  CHECK(payload.empty());
  CHECK(load_record(in, "gamma", 1, payload).find("truncated") != std::string::npos);
}

TEST_CASE("records with hostile lengths are refused before reading", "[state]") {
  std::ostringstream out;
  save_record(out, "alpha", 1, std::string(100, 'x'));
  std::istringstream in(out.str());
  std::string payload = "unchanged";
  const std::string error = load_record(in, "alpha", 1, payload, 10);
  CHECK(error.find("limit") != std::string::npos);
  CHECK(payload == "unchanged");

  // A length field claiming 2^60 bytes on a short stream: refused by the default limit.
  std::string bytes = out.str();
  const std::size_t length_at = 2 + 5 + 4;
  const std::uint64_t huge = std::uint64_t{1} << 60;
  std::memcpy(&bytes[length_at], &huge, sizeof huge);
  std::istringstream in2(bytes);
  CHECK(load_record(in2, "alpha", 1, payload).find("limit") != std::string::npos);

  // A zero or oversized tag length is not a record.
  std::istringstream in3(std::string("\0\0garbage", 9));
  CHECK(load_record(in3, "alpha", 1, payload).find("tag length") != std::string::npos);
}

TEST_CASE("record version mismatches name both versions", "[state]") {
  std::ostringstream out;
  save_record(out, "alpha", 2, "p");
  std::string payload;
  std::istringstream older(out.str());
  const std::string e1 = load_record(older, "alpha", 3, payload);
  CHECK(e1.find("version 2") != std::string::npos);
  CHECK(e1.find("version 3") != std::string::npos);
  CHECK(e1.find("older") != std::string::npos);
  std::istringstream newer(out.str());
  const std::string e2 = load_record(newer, "alpha", 1, payload);
  CHECK(e2.find("newer") != std::string::npos);
}
