#pragma once
// Ground truth written by the simulator (labels.json, schema "flowlier.labels.v1") and
// read back by the evaluator. The schema is documented in lab/README.md.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace flowlier::lab {

// An entity as anomaly events name it: kind "interface" (eni-...) or "address" (dotted IPv4).
struct LabelEntity {
  std::string kind;
  std::string id;
  friend bool operator==(const LabelEntity&, const LabelEntity&) = default;
};

// One injected incident or one benign change; times are Unix seconds, [start, end).
struct LabelledSpan {
  std::string id;    // "inc-01" / "chg-01"
  std::string type;  // incident: port-scan|sweep|exfiltration|ddos|brute-force|unusual-port|
                     // beacon|reject-storm; change: deploy|new-clients
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::vector<LabelEntity> entities;
  std::vector<std::string> actors;  // addresses of the external (or internal) actors
  std::string description;
  friend bool operator==(const LabelledSpan&, const LabelledSpan&) = default;
};

// One host of the simulated estate, so that false alarms can be traced to what caused them.
struct EstateHost {
  std::string role;                // dns, web, ..., nat, lb, k8s, ci, windows, autoscale
  std::string interface;           // eni-...
  std::string address;             // its private address
  std::vector<std::string> zoo;    // benign zoo members acting on it
  std::string pods;                // k8s nodes: the CIDR its pods' addresses come from
  std::optional<std::pair<std::int64_t, std::int64_t>> present;  // autoscaled: [arrive, leave)
  friend bool operator==(const EstateHost&, const EstateHost&) = default;
};

struct Labels {
  std::uint64_t seed = 0;
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::int64_t window_seconds = 60;
  std::int64_t warmup_end = 0;
  std::vector<LabelledSpan> incidents;
  std::vector<LabelledSpan> benign_changes;
  std::vector<std::string> zoo;    // benign zoo members present in this estate (may be empty)
  std::vector<EstateHost> estate;  // every host (may be empty: older files)
  friend bool operator==(const Labels&, const Labels&) = default;
};

inline constexpr std::string_view labels_schema = "flowlier.labels.v1";

// Pretty JSON text (2-space indent, trailing newline); key order is fixed.
std::string labels_to_json(const Labels& labels);

// Parses `text` as a JSON object into `root`; false with "labels: not valid JSON" or
// "labels: not a JSON object" in `error` otherwise (every labels format starts here).
bool parse_labels_object(std::string_view text, nlohmann::json& root, std::string& error);

// Parses labels.json text. On failure returns nullopt and sets `error` to a message naming
// the offending key. Never throws.
std::optional<Labels> parse_labels(std::string_view text, std::string& error);

}  // namespace flowlier::lab
