#include <catch2/catch.hpp>

#include <vector>

#include "pipeline/EntityRouter.hpp"

using namespace flowlier::pipeline;
using flowlier::models::Observation;

namespace {
// An AWS v2-like record: no direction, so the router learns each interface's address.
FlowRecord record(const char* eni, std::uint32_t src, std::uint32_t dst) {
  FlowRecord r;
  r.format = Format::aws_vpc;
  r.interface_id.assign(eni);
  r.srcaddr = IpAddress::from_v4(src);
  r.dstaddr = IpAddress::from_v4(dst);
  r.set(Field::srcaddr);
  r.set(Field::dstaddr);
  r.set(Field::start);
  r.start_ns = 1'700'000'000'000'000'000;
  return r;
}
constexpr std::uint32_t kHost = 0x0a000005;  // 10.0.0.5, the interface's own address

std::string saved(const EntityRouter& router) {
  flowlier::detectors::StateWriter w;
  router.save(w);
  return w.bytes();
}
}  // namespace

TEST_CASE("EntityRouter learns the interface's own address as the local side", "[router]") {
  EntityRouter router(RouterConfig{});
  std::vector<Observation> out;
  // Both ends private: only the recurring address tells which side is the interface.
  for (std::uint32_t peer = 1; peer <= 5; ++peer) router.route(record("eni-a", kHost, 0x0a010000 + peer), out);
  router.route(record("eni-a", 0x0a020001, kHost), out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].entity.id.view() == "eni-a");
  CHECK(out[0].inbound);  // 10.0.0.5 is the destination here
  CHECK(out[1].entity.id.view() == "10.0.0.5");
}

TEST_CASE("EntityRouter state round-trips and its interface table stays bounded", "[router]") {
  RouterConfig config;
  config.max_learned_interfaces = 2;
  EntityRouter router(config);
  std::vector<Observation> out;
  router.route(record("eni-a", kHost, 0x0a010001), out);
  router.route(record("eni-b", kHost, 0x0a010002), out);
  const std::string two = saved(router);

  EntityRouter restored(config);
  flowlier::detectors::StateReader reader(two);
  REQUIRE(restored.load(reader).empty());
  CHECK(saved(restored) == two);

  // A third interface clears the full table, then is learned alone.
  router.route(record("eni-c", kHost, 0x0a010003), out);
  const std::string one = saved(router);
  flowlier::detectors::StateReader after(one);
  std::uint64_t count = 0;
  REQUIRE(after.get(count));
  CHECK(count == 1);

  // A state naming more interfaces than allowed is refused and changes nothing.
  RouterConfig small;
  small.max_learned_interfaces = 1;
  EntityRouter strict(small);
  flowlier::detectors::StateReader too_many(two);
  CHECK_FALSE(strict.load(too_many).empty());
  CHECK(strict.memory_usage() == 0);
}

TEST_CASE("GCP firewall entries: the instance is the local side, not a private-range guess", "[router][gcp]") {
  FlowRecord r;
  r.format = Format::gcp_vpc;
  r.interface_id.assign("bastion-1");
  r.srcaddr = IpAddress::from_v4(0xac100909);  // 172.16.9.9, a private prober
  r.dstaddr = IpAddress::from_v4(0x0a800007);  // 10.128.0.7, the VM
  r.set(Field::srcaddr);
  r.set(Field::dstaddr);
  r.set(Field::start);
  r.direction = Direction::ingress;
  r.action = Action::reject;
  EntityRouter router(RouterConfig{});
  std::vector<Observation> out;
  router.route(r, out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].entity.id.view() == "bastion-1");
  CHECK(out[1].entity.id.view() == "10.128.0.7");
  CHECK(out[1].rejected);
  CHECK(out[1].inbound);
}

TEST_CASE("Record counts are by direction for every format", "[router][azure]") {
  auto azure = [](FlowState state, bool counters, std::uint64_t out_packets, std::uint64_t back_packets,
                  Action action = Action::accept) {
    FlowRecord r = record("000D3A100001", kHost, 0x08080808);
    r.format = Format::azure_nsg;
    r.direction = Direction::egress;
    r.flow_state = state;
    r.action = action;
    if (counters) {
      r.set(Field::packets);
      r.set(Field::packets_reverse);
      r.packets = out_packets;
      r.packets_reverse = back_packets;
    }
    return r;
  };
  EntityRouter router(RouterConfig{});
  std::vector<Observation> out;
  const auto directions = [&](const FlowRecord& r) {
    router.route(r, out);
    REQUIRE_FALSE(out.empty());
    return static_cast<int>(out[0].directions);
  };
  // AWS: one record per direction already.
  CHECK(directions(record("eni-a", kHost, 0x08080808)) == 1);
  // Azure: a B tuple's counters come later; an E tuple with both directions counts two.
  CHECK(directions(azure(FlowState::begin, false, 0, 0)) == 0);
  CHECK_FALSE(out[0].continues);
  CHECK(directions(azure(FlowState::end, true, 5, 4)) == 2);
  CHECK(out[0].continues);
  CHECK(directions(azure(FlowState::continuing, true, 5, 0)) == 1);
  CHECK(out[0].continues);
  // A denied attempt is one record (NSG: decision D with state B; VNet: state D).
  CHECK(directions(azure(FlowState::begin, false, 0, 0, Action::reject)) == 1);
  CHECK(directions(azure(FlowState::denied, false, 0, 0, Action::reject)) == 1);
  // NSG v1: no state, no counters: one record.
  CHECK(directions(azure(FlowState::unknown, false, 0, 0)) == 1);
}
