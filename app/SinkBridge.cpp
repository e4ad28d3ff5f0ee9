#include "app/SinkBridge.hpp"

#include <fmt/format.h>

#include "transport/SinkConfig.hpp"
#include "transport/SinkFactory.hpp"

namespace flowlier::app {

transport::SinkEvent to_sink_event(const pipeline::AnomalyEvent& e) {
  transport::SinkEvent out;
  auto& m = out.meta;
  m.id = e.id;
  m.episode = e.episode;
  m.resolved = e.status == pipeline::EventStatus::resolved;
  // The two enums share order and names (checked by the static_asserts below).
  m.severity = static_cast<transport::SinkSeverity>(e.severity);
  m.time = e.window_end != 0 ? e.window_end : e.time;
  m.entity_kind = e.entity_kind;
  m.entity_id = e.entity_id;
  m.detector = e.detector;
  m.feature = e.feature;
  m.category = e.category;
  m.summary = e.explanation;
  out.json = e.to_json();
  return out;
}
static_assert(static_cast<int>(pipeline::Severity::info) == static_cast<int>(transport::SinkSeverity::info));
static_assert(static_cast<int>(pipeline::Severity::critical) ==
              static_cast<int>(transport::SinkSeverity::critical));

std::unique_ptr<SinkBridge> SinkBridge::open(const std::string& config_path, std::string& error) {
  auto bridge = std::make_unique<SinkBridge>();
  if (config_path.empty()) return bridge;
  auto configs = transport::load_sink_configs_file(config_path);
  if (!configs.error.empty()) {
    error = configs.error;
    return nullptr;
  }
  bridge->sinks_ = transport::make_sinks(
      configs.sinks, [](const std::string& line) { fmt::print(stderr, "sink: {}\n", line); }, error);
  if (!error.empty()) return nullptr;
  return bridge;
}

void SinkBridge::publish(const pipeline::AnomalyEvent& event) {
  if (sinks_.empty()) return;
  const auto converted = to_sink_event(event);
  for (auto& sink : sinks_) sink->push(converted);
}

bool SinkBridge::finish(std::FILE* report, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool all = true;
  for (auto& sink : sinks_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    all = sink->flush(std::max(left, std::chrono::milliseconds(0))) && all;
  }
  for (const auto& sink : sinks_) {
    const auto c = sink->counters();
    fmt::print(report,
               "  sink {}: received {}, filtered {}, delivered {}, retried {}, dead-lettered {}, dropped {}, "
               "spooled {} ({} bytes){}{}\n",
               sink->id(), c.received, c.filtered, c.delivered, c.retried, c.dead_lettered, c.dropped, c.spool_events,
               c.spool_bytes, c.config_error ? ", CONFIGURATION ERROR" : "",
               c.last_error.empty() || c.spool_events == 0 ? "" : fmt::format(", last error: {}", c.last_error));
  }
  return all;
}

}  // namespace flowlier::app
