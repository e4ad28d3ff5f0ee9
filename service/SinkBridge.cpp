#include "service/SinkBridge.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/formats/Rfc3339.hpp"

#include "transport/SinkConfig.hpp"
#include "transport/SinkFactory.hpp"

namespace flowlier::service {

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

std::unique_ptr<SinkBridge> SinkBridge::open(const core::ConfigDocument& config, const std::string& state_path,
                                             std::string& error) {
  auto bridge = std::make_unique<SinkBridge>();
  auto configs = transport::read_sink_configs(config);
  if (!configs.error.empty()) {
    error = configs.error;
    return nullptr;
  }
  for (auto& c : configs.sinks) {
    if (c.spool_dir.empty()) c.spool_dir = transport::default_spool_dir(state_path);
  }
  bridge->sinks_ = transport::make_sinks(
      configs.sinks, [](const std::string& line) { fmt::print(stderr, "sink: {}\n", line); }, error);
  if (!error.empty()) return nullptr;
  for (std::size_t i = 0; i < configs.sinks.size(); ++i) {
    const auto& c = configs.sinks[i];
    bridge->spool_max_bytes_.push_back(c.spool_max_bytes);
    // Only spooled (HTTP, Kafka) sinks can wait; file and stdout sinks take every event at once.
    const bool spooled = c.type != transport::SinkType::file && c.type != transport::SinkType::stdout_;
    bridge->feeders_.push_back(std::make_unique<transport::SinkFeeder>(
        *bridge->sinks_[i], spooled ? c.spool_dir + "/" + c.id + "/backlog" : std::string(),
        [](const std::string& line) { fmt::print(stderr, "sink: {}\n", line); }));
  }
  return bridge;
}

std::vector<SinkBridge::Status> SinkBridge::status() const {
  std::vector<Status> out;
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    Status status{sinks_[i]->id(), sinks_[i]->counters(), i < spool_max_bytes_.size() ? spool_max_bytes_[i] : 0};
    if (i < feeders_.size()) {
      status.backlog_events = feeders_[i]->backlog_events();
      status.backlog_dropped = feeders_[i]->backlog_dropped();
    }
    out.push_back(std::move(status));
  }
  return out;
}

std::string SinkBridge::misconfigured() const {
  for (const auto& sink : sinks_) {
    if (sink->counters().config_error) return sink->id();
  }
  return {};
}

void SinkBridge::publish(const pipeline::AnomalyEvent& event) {
  if (sinks_.empty()) return;
  const auto converted = to_sink_event(event);
  for (auto& sink : sinks_) sink->push(converted);
}

void SinkBridge::publish_json(std::string_view json) {
  if (sinks_.empty()) return;
  transport::SinkEvent out;
  try {
    const auto j = nlohmann::json::parse(json);
    auto& m = out.meta;
    m.id = j.at("id").get<std::string>();
    m.episode = j.at("episode").get<std::string>();
    m.resolved = j.at("status").get<std::string>() == "resolved";
    m.severity = transport::parse_sink_severity(j.at("severity").get<std::string>()).value_or(m.severity);
    const auto end = pipeline::formats::parse_rfc3339(j.at("window").at("end").get<std::string>());
    m.time = end ? *end / 1'000'000'000 : 0;
    m.entity_kind = j.at("entity").at("kind").get<std::string>();
    m.entity_id = j.at("entity").at("id").get<std::string>();
    m.detector = j.value("detector", "");
    m.feature = j.value("feature", "");
    m.category = j.value("category", "");
    m.summary = j.value("explanation", "");
  } catch (const std::exception&) {
    ++unreadable_;
    return;
  }
  out.json = std::string(json);
  for (auto& feeder : feeders_) feeder->push(out);
}

bool SinkBridge::finish(std::FILE* report, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool all = true;
  for (auto& feeder : feeders_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    all = feeder->drain(std::max(left, std::chrono::milliseconds(0))) && all;
  }
  for (auto& sink : sinks_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    all = sink->flush(std::max(left, std::chrono::milliseconds(0))) && all;
  }
  for (const auto& status : status()) {
    const auto& c = status.counters;
    fmt::print(report,
               "  sink {}: received {}, filtered {}, delivered {}, retried {}, dead-lettered {}, dropped {}, "
               "spooled {} ({} bytes){}{}{}\n",
               status.id, c.received, c.filtered, c.delivered, c.retried, c.dead_lettered,
               c.dropped + status.backlog_dropped, c.spool_events, c.spool_bytes,
               status.backlog_events > 0 ? fmt::format(", {} waiting in the backlog", status.backlog_events) : "",
               c.config_error ? ", CONFIGURATION ERROR" : "",
               c.last_error.empty() || c.spool_events == 0 ? "" : fmt::format(", last error: {}", c.last_error));
  }
  return all;
}

}  // namespace flowlier::service
