#pragma once
// The front half of an engine split into shards inside one process: it turns each
// record into observations with ONE EntityRouter over the whole stream (so every shard
// gets the local-side decisions one engine would make) and tracks the watermark. The
// back halves are Engines fed with ingest(Observation) and advance(close point):
//
//   for each record:  intake.route(record, obs)  -> each o to engine[intake.shard_of(o)]
//                     if (auto cp = intake.observe(record)) -> advance(cp) on every engine
//
// gives the events of one Engine::process() over the same records. Observations are
// about a fifth of a record's size, and routing happens once, not once per shard.
// Its state (learned interfaces, watermark) is saved beside the engines'.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "models/Observation.hpp"
#include "pipeline/EntityRouter.hpp"
#include "pipeline/FlowRecord.hpp"
#include "pipeline/WatermarkTracker.hpp"

namespace flowlier::pipeline {

struct EngineConfig;

class IntakeRouter {
 public:
  static constexpr std::uint32_t kStateVersion = 1;

  IntakeRouter(const EngineConfig& config, std::uint32_t shard_count);

  // The record's observations (none for status records); appended to `out`, cleared first.
  void route(const FlowRecord& record, std::vector<models::Observation>& out) { router_.route(record, out); }
  std::uint32_t shard_of(const models::Observation& o) const {
    return static_cast<std::uint32_t>(o.entity.incident() % shard_count_);
  }
  // The close point to broadcast when this record moves the watermark across one.
  std::optional<std::int64_t> observe(const FlowRecord& record) { return watermark_.observe(record); }

  WatermarkTracker& watermark() { return watermark_; }
  std::uint32_t shard_count() const { return shard_count_; }

  void save(std::ostream& out) const;
  // On failure returns why and leaves this unchanged.
  std::string restore(std::istream& in);

 private:
  std::uint32_t shard_count_;
  EntityRouter router_;
  WatermarkTracker watermark_;
};

}  // namespace flowlier::pipeline
