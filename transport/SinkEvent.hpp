#pragma once
// What a sink receives: the event already serialized (schema flowlier.anomaly.v1,
// one line of JSON, no newline) plus the few facts sinks route and label by.
// transport never sees pipeline types; the app fills these from pipeline::AnomalyEvent.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowlier::transport {

// Same order and names as pipeline::Severity (info < low < medium < high < critical).
enum class SinkSeverity : std::uint8_t { info, low, medium, high, critical };

const char* to_string(SinkSeverity);
std::optional<SinkSeverity> parse_sink_severity(std::string_view);

struct EventMeta {
  std::string id;       // unique per event: receivers deduplicate by it
  std::string episode;  // stable across an episode: dedup key / fingerprint
  bool resolved = false;
  SinkSeverity severity = SinkSeverity::info;
  std::int64_t time = 0;  // Unix seconds, the end of the scored window
  std::string entity_kind;
  std::string entity_id;
  std::string detector;
  std::string feature;
  std::string category;
  std::string summary;  // one human-readable sentence (the explanation)
  // Alertmanager (sink and webhook format) labels an alert with what its episode had
  // when it first fired, so escalations and category changes keep one alert; the
  // sender fills these from its record of first firings (never spooled).
  bool opened_known = false;
  SinkSeverity opened_severity = SinkSeverity::info;
  std::string opened_category;
};

struct SinkEvent {
  EventMeta meta;
  std::string json;  // the whole event object
};

}  // namespace flowlier::transport
