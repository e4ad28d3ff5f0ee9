#include "pipeline/IntakeRouter.hpp"

#include <algorithm>
#include <istream>
#include <ostream>

#include "core/StateIo.hpp"
#include "pipeline/Engine.hpp"

namespace flowlier::pipeline {
namespace {
constexpr const char* kIntakeTag = "intake";
}

IntakeRouter::IntakeRouter(const EngineConfig& config, std::uint32_t shard_count)
    : shard_count_(std::max<std::uint32_t>(1, shard_count)),
      router_(config.router),
      watermark_(config.windows.window_seconds, config.windows.allowed_lateness_seconds) {}

void IntakeRouter::save(std::ostream& out) const {
  detectors::StateWriter w;
  w.put(watermark_.newest());
  w.put(watermark_.close_point());
  router_.save(w);
  detectors::save_record(out, kIntakeTag, kStateVersion, w.bytes());
}

std::string IntakeRouter::restore(std::istream& in) {
  std::string payload;
  if (auto error = detectors::load_record(in, kIntakeTag, kStateVersion, payload); !error.empty()) {
    return "intake state: " + error;
  }
  detectors::StateReader r(payload);
  std::int64_t newest = 0, close_point = 0;
  r.get(newest);
  r.get(close_point);
  EntityRouter router(router_.config());
  if (auto error = router.load(r); !error.empty()) return "intake state (router): " + error;
  if (auto error = r.finish(); !error.empty()) return "intake state: " + error;
  router_ = std::move(router);
  watermark_.restore(newest, close_point);
  return {};
}

}  // namespace flowlier::pipeline
