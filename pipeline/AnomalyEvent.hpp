#pragma once
// An anomaly event as published: schema flowlier.anomaly.v1
// (shared/contracts/anomaly-event.schema.json). Times are Unix seconds here and
// RFC 3339 UTC on the wire.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flowlier::pipeline {

enum class Severity : std::uint8_t { info, low, medium, high, critical };
enum class EventStatus : std::uint8_t { firing, resolved };

const char* to_string(Severity);
const char* to_string(EventStatus);
std::optional<Severity> parse_severity(std::string_view);

struct Contributor {
  std::string key;    // "peer", "port", "feature"
  std::string value;  // "203.0.113.7", "tcp/22", "bytes_out"
  double share = 0;   // fraction of the window's total this one carried...
  std::string base;   // ...of what: "bytes", "flows" or "first contacts" ("" = not a share)
};

// Another entity of the same incident: the same host seen through another entity
// kind (an interface and its address) whose window deviated too.
struct RelatedEntity {
  std::string kind;
  std::string id;
  friend bool operator==(const RelatedEntity&, const RelatedEntity&) = default;
};

// The operator rule that acted on an event (pipeline/Rules.hpp): schema 1.1 "rule".
struct RuleMark {
  std::string name;
  std::string action;  // "downgrade" or "tag" (suppressed events are not published)
  std::string reason;
};

struct AnomalyEvent {
  std::string id;       // unique per event
  std::string episode;  // stable from first window until resolved
  EventStatus status = EventStatus::firing;
  std::int64_t time = 0;  // decision time: the end of the scored window
  std::int64_t window_start = 0;
  std::int64_t window_end = 0;
  std::string entity_kind;
  std::string entity_id;
  std::map<std::string, std::string> labels;
  std::string detector;
  std::string feature;
  double value = 0;
  double expected = 0;
  std::optional<std::pair<double, double>> bounds;
  double score = 0;  // 0-100
  Severity severity = Severity::info;
  std::string category;
  std::string explanation;
  std::vector<Contributor> contributors;
  double tail_probability = 1;  // extra property: the calibrated p behind the score
  std::uint32_t windows = 1;     // extra property: windows the episode has lasted
  std::vector<RelatedEntity> related;  // extra property: the incident's other entities
  std::optional<RuleMark> rule;        // schema 1.1: the rule that downgraded or tagged it

  // One line of JSON (no trailing newline), conforming to the schema.
  std::string to_json() const;
};

}  // namespace flowlier::pipeline
