#include <catch2/catch.hpp>

#include "pipeline/IpAddress.hpp"

using flowlier::pipeline::Cidr;
using flowlier::pipeline::IpAddress;

TEST_CASE("IPv4 addresses parse and print back", "[ip]") {
  auto a = IpAddress::parse("172.31.16.139");
  REQUIRE(a);
  CHECK(a->is_v4());
  CHECK(a->v4() == ((172u << 24) | (31u << 16) | (16u << 8) | 139u));
  CHECK(a->str() == "172.31.16.139");
  CHECK(a->is_private());
  CHECK_FALSE(IpAddress::parse("203.0.113.12")->is_private());
}

TEST_CASE("malformed IPv4 is refused", "[ip]") {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.4 ", "a.b.c.d", "1234.1.1.1", "-"}) {
    INFO(bad);
    CHECK_FALSE(IpAddress::parse(bad));
  }
}

TEST_CASE("IPv6 addresses parse, print and classify", "[ip]") {
  auto a = IpAddress::parse("2001:db8:1234:a100:8d6e:3477:df66:f105");
  REQUIRE(a);
  CHECK_FALSE(a->is_v4());
  CHECK(a->str() == "2001:db8:1234:a100:8d6e:3477:df66:f105");
  CHECK_FALSE(a->is_private());
  CHECK(IpAddress::parse("fd00::1")->is_private());
  CHECK_FALSE(IpAddress::parse("2001:db8::1::2"));
}

TEST_CASE("CIDR containment over IPv4 and IPv6", "[ip]") {
  auto net = Cidr::parse("10.1.0.0/16");
  REQUIRE(net);
  CHECK(net->contains(*IpAddress::parse("10.1.200.3")));
  CHECK_FALSE(net->contains(*IpAddress::parse("10.2.0.1")));
  auto v6 = Cidr::parse("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains(*IpAddress::parse("2001:db8:ffff::1")));
  CHECK_FALSE(Cidr::parse("10.0.0.0/33"));
  CHECK_FALSE(Cidr::parse("10.0.0.0"));
}
