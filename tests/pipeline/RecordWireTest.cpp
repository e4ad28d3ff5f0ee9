#include <catch2/catch.hpp>

#include "pipeline/EntityRouter.hpp"
#include "pipeline/RecordWire.hpp"

using namespace flowlier::pipeline;

namespace {
FlowRecord sample_record() {
  FlowRecord r;
  r.format = Format::aws_vpc;
  r.version = 5;
  r.action = Action::reject;
  r.direction = Direction::egress;
  r.protocol = 6;
  r.srcport = 443;
  r.dstport = 51000;
  r.start_ns = 1772409600'000'000'000;
  r.end_ns = 1772409660'000'000'000;
  r.srcaddr = *IpAddress::parse("10.0.2.10");
  r.dstaddr = *IpAddress::parse("2001:db8::1");
  r.packets = 7;
  r.bytes = 1090;
  r.sampling_rate = 0.5;
  r.interface_id.assign("eni-c3f6990c44d31ad84");
  r.account_id.assign("123456789012");
  r.rule.assign("deny-all");
  r.add_extra("sublocation-type", "wavelength");
  r.source_index = 3;
  r.source_line = 99;
  r.set(Field::end);
  r.set(Field::start);
  return r;
}
}  // namespace

TEST_CASE("RecordWire round-trips every field, several records back to back") {
  const FlowRecord a = sample_record();
  FlowRecord b;
  b.interface_id.assign("eni-2");
  std::string wire;
  append_record_wire(wire, a);
  append_record_wire(wire, b);
  FlowRecord x;
  const std::size_t first = read_record_wire(wire, x);
  REQUIRE(first > 0);
  CHECK(x.present == a.present);
  CHECK(x.format == Format::aws_vpc);
  CHECK(x.version == 5);
  CHECK(x.action == Action::reject);
  CHECK(x.direction == Direction::egress);
  CHECK(x.srcport == 443);
  CHECK(x.dstport == 51000);
  CHECK(x.start_ns == a.start_ns);
  CHECK(x.end_ns == a.end_ns);
  CHECK(x.srcaddr == a.srcaddr);
  CHECK(x.dstaddr == a.dstaddr);
  CHECK(x.packets == 7);
  CHECK(x.bytes == 1090);
  CHECK(x.sampling_rate == 0.5);
  CHECK(x.interface_id.view() == "eni-c3f6990c44d31ad84");
  CHECK(x.account_id.view() == "123456789012");
  CHECK(x.rule.view() == "deny-all");
  CHECK(x.extra == a.extra);
  CHECK(x.source_index == 3);
  CHECK(x.source_line == 99);
  FlowRecord y;
  const std::size_t second = read_record_wire(std::string_view(wire).substr(first), y);
  CHECK(first + second == wire.size());
  CHECK(y.interface_id.view() == "eni-2");
  CHECK(y.extra.empty());
}

TEST_CASE("RecordWire rejects truncated, foreign-version and out-of-range input") {
  std::string wire;
  append_record_wire(wire, sample_record());
  FlowRecord x;
  for (std::size_t n = 0; n < wire.size(); n += 7) CHECK(read_record_wire(std::string_view(wire).substr(0, n), x) == 0);
  std::string other = wire;
  other[0] = static_cast<char>(kRecordWireVersion + 1);
  CHECK(read_record_wire(other, x) == 0);
  std::string bad_enum = wire;
  bad_enum[1 + 4] = 17;  // format, right after version and presence bits
  CHECK(read_record_wire(bad_enum, x) == 0);
}

namespace {
// The observations the intake routes a v2 record into (interface and local address).
std::vector<flowlier::models::Observation> routed(const FlowRecord& record) {
  EntityRouter router(RouterConfig{});
  std::vector<flowlier::models::Observation> out;
  router.route(record, out);
  return out;
}

bool same(const flowlier::models::Observation& a, const flowlier::models::Observation& b) {
  return a.entity == b.entity && a.time_s == b.time_s && a.bytes_in == b.bytes_in && a.bytes_out == b.bytes_out &&
         a.packets == b.packets && a.peer_hash == b.peer_hash && a.peer == b.peer &&
         a.service_port == b.service_port && a.local_port == b.local_port && a.protocol == b.protocol &&
         a.has_peer == b.has_peer && a.has_port == b.has_port && a.rejected == b.rejected &&
         a.external_peer == b.external_peer && a.inbound == b.inbound && a.client == b.client &&
         a.weight == b.weight && a.directions == b.directions && a.continues == b.continues;
}
}  // namespace

TEST_CASE("ObservationWire round-trips what the intake routes, back to back", "[wire]") {
  FlowRecord r = sample_record();
  for (Field f : {Field::srcaddr, Field::dstaddr, Field::srcport, Field::dstport, Field::protocol, Field::packets,
                  Field::bytes})
    r.set(f);
  auto observations = routed(r);
  REQUIRE(observations.size() >= 1);
  observations.back().continues = true;
  observations.back().entity.host = 0x1234'5678'9abc'def0;
  std::string wire;
  for (const auto& o : observations) append_observation_wire(wire, o);
  std::string_view rest = wire;
  for (const auto& o : observations) {
    flowlier::models::Observation x;
    const std::size_t used = read_observation_wire(rest, x);
    REQUIRE(used > 0);
    CHECK(same(x, o));
    CHECK(x.entity.hash() == o.entity.hash());
    rest.remove_prefix(used);
  }
  CHECK(rest.empty());
}

TEST_CASE("ObservationWire refuses truncated and out-of-range frames", "[wire]") {
  flowlier::models::Observation o;
  o.entity.id.assign("eni-1");
  std::string wire;
  append_observation_wire(wire, o);
  flowlier::models::Observation x;
  for (std::size_t n = 0; n < wire.size(); ++n) CHECK(read_observation_wire(std::string_view(wire).substr(0, n), x) == 0);
  std::string bad_kind = wire;
  bad_kind[1] = static_cast<char>(flowlier::models::kEntityKindCount);
  CHECK(read_observation_wire(bad_kind, x) == 0);
  std::string bad_version = wire;
  bad_version[0] = 9;
  CHECK(read_observation_wire(bad_version, x) == 0);
  o.weight = 0;
  std::string zero_weight;
  append_observation_wire(zero_weight, o);
  CHECK(read_observation_wire(zero_weight, x) == 0);
  CHECK(read_observation_wire(wire, x) == wire.size());
}
