// Memory per entity of the default engine: feeds N interfaces (each with its own
// address, so 2N entity instances: kinds interface and address) through
// pipeline::Engine with the default EngineConfig for several windows, then reports
// Engine::memory_usage() and the process RSS growth (/proc/self/statm) per entity.
//
//   bench_entity_memory [N=100000] [windows=6] [records_per_window=2]
//
// Measured at steady state (the last windows still open, as in a live run), then
// again after flush() closes every window.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "pipeline/Engine.hpp"

using namespace flowlier;
using namespace flowlier::pipeline;

namespace {
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

FlowRecord make_record(std::uint32_t entity, std::uint32_t n, std::int64_t time_s) {
  FlowRecord r;
  r.format = Format::aws_vpc;
  r.version = 2;
  r.status = LogStatus::ok;
  r.set(Field::version);
  r.account_id.assign("123456789012");
  r.interface_id.assign(fmt::format("eni-{:017x}", 0x0a1b2c3d4e5f6000ULL + entity));
  const bool egress = (n & 1) != 0;
  const IpAddress local = IpAddress::from_v4(0x0a000000u + entity);  // 10.x.y.z
  const IpAddress peer = IpAddress::from_v4(0x34000000u + (entity * 7919u + n * 104729u) % 50000u);
  r.srcaddr = egress ? local : peer;
  r.dstaddr = egress ? peer : local;
  r.srcport = egress ? static_cast<std::uint16_t>(40000 + n % 20000) : 443;
  r.dstport = egress ? 443 : static_cast<std::uint16_t>(40000 + n % 20000);
  r.protocol = 6;
  r.packets = 10 + n % 50;
  r.bytes = r.packets * 700;
  r.start_ns = time_s * 1'000'000'000;
  r.end_ns = (time_s + 30) * 1'000'000'000;
  r.action = n % 17 == 0 ? Action::reject : Action::accept;
  for (Field f : {Field::srcaddr, Field::dstaddr, Field::srcport, Field::dstport, Field::protocol, Field::packets,
                  Field::bytes, Field::start, Field::end}) {
    r.set(f);
  }
  return r;
}

void report(const char* when, const Engine& engine, std::size_t rss_growth) {
  const auto entities = engine.entity_count();
  const double model = static_cast<double>(engine.memory_usage()) / static_cast<double>(entities);
  const double rss = static_cast<double>(rss_growth) / static_cast<double>(entities);
  fmt::print("{:<28} entities {:>8}  memory_usage {:>12} B = {:>7.0f} B/entity   RSS growth {:>12} B = {:>7.0f} B/entity\n",
             when, entities, engine.memory_usage(), model, rss_growth, rss);
}
}  // namespace

int main(int argc, char** argv) {
  const std::uint32_t n = argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 100'000;
  const int windows = argc > 2 ? std::atoi(argv[2]) : 6;
  const int per_window = argc > 3 ? std::atoi(argv[3]) : 2;
  if (n == 0 || n > (1u << 24) || windows <= 0 || per_window <= 0) {
    std::fputs("usage: bench_entity_memory [N=100000 (<= 2^24)] [windows=6] [records_per_window=2]\n", stderr);
    return 2;
  }
  const std::size_t rss_before = resident_bytes();
  Engine engine{EngineConfig{}};
  const std::int64_t t0 = 1'754'319'600;
  std::uint64_t events = 0;
  for (int w = 0; w < windows; ++w) {
    for (int k = 0; k < per_window; ++k) {
      for (std::uint32_t e = 0; e < n; ++e) {
        const std::int64_t t = t0 + w * 60 + (k * 60 / per_window) + static_cast<std::int64_t>(e % 7);
        engine.process(make_record(e, static_cast<std::uint32_t>(w * per_window + k), t));
      }
    }
    events += engine.take_events().size();
  }
  fmt::print("default EngineConfig, {} interfaces + {} addresses, {} windows x {} records each, kinds per record: {}\n",
             n, n, windows, per_window, engine.config().router.kinds.size());
  report("steady state (windows open)", engine, resident_bytes() - rss_before);
  const double live = static_cast<double>(engine.memory_usage()) / static_cast<double>(engine.entity_count());
  engine.flush();
  events += engine.take_events().size();
  // RSS does not shrink here: malloc keeps the freed window nodes for reuse.
  report("after flush (no open window)", engine, resident_bytes() - rss_before);
  const double idle = static_cast<double>(engine.memory_usage()) / static_cast<double>(engine.entity_count());
  fmt::print("windows closed {}, events {}\n", engine.window_stats().windows_closed, events);
  fmt::print("target <= 1024 B per entity-kind instance: live (open windows) {} ({:.0f} B, {:.1f}x), "
             "table + baselines only {} ({:.0f} B)\n",
             live <= 1024 ? "MET" : "MISSED", live, live / 1024, idle <= 1024 ? "MET" : "MISSED", idle);
  return 0;
}
